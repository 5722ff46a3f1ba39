select * from {{ ref "a" }} where id is null
