{{ config "limit" 10 "error_if" "= 11" }}
select * from {{ ref "a" }} where id <= 0
