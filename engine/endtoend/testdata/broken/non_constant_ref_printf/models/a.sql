select * from {{ ref (printf "b%d" 1) }}
