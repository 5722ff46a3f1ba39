select * from {{ ref "aa" }}
