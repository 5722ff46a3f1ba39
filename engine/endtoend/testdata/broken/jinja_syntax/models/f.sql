select {{ ref 'orders' }}
