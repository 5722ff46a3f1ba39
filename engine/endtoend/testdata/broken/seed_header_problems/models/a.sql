select * from {{ ref "dup" }}
