select * from {{ ref "a" }} where id > 10
