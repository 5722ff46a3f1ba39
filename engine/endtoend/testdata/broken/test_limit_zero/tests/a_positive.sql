{{ config "limit" 0 }}
select * from {{ ref "a" }} where id <= 0
