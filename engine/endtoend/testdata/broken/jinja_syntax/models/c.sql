select {{ ref 'a' }}
