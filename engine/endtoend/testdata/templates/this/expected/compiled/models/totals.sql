-- built as "wh"."order_totals"
select 1 as total
