select * from {{ ref "e3" }}
