{{ config "materialized" "table" "alias" "order_totals" }}-- built as {{ this }}
select 1 as total
