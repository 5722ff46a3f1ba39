select * from {{ ref "reads_me" }}
