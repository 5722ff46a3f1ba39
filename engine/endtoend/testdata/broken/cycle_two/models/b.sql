select * from {{ ref "a" }}
