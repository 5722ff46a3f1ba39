{{ config "alias" "parents" "materialized" "table" }}
select 1 as id
