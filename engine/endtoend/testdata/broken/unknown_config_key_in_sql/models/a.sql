{{ config "materialised" "table" }}
select 1
