{{ config "materialized" "table" "pre_hook" "select * from {{ ref \"nope\" }}" }}
select 1
