select * from {{ ref "lower" }}
