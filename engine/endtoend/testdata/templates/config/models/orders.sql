{{ config "materialized" "table" "schema" "marts" "tags" (list "finance" "daily") }}
select 1 as order_id
