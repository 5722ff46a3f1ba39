-- Stock levels per snapshot, product and warehouse, valued at the unit cost of the product version
-- valid on the snapshot date. Incremental: each run adds the snapshots newer than the newest loaded.
with stock as (
    select
        s.*,
        (select d."product_key" from "warehouse"."dim_products" as d
  where d."product_id" = s.product_id
  order by (d.effective_date <= s.snapshot_date) desc,
           case when d.effective_date <= s.snapshot_date then d.effective_date end desc,
           d.effective_date
  limit 1) as product_key
    from "staging"."stg_inventory" as s
)
select
    s.snapshot_date,
    (extract(year from s.snapshot_date) * 10000 + extract(month from s.snapshot_date) * 100 + extract(day from s.snapshot_date))::integer as date_key,
    s.product_key,
    s.product_id,
    s.warehouse,
    s.quantity_on_hand,
    s.reorder_point,
    s.quantity_on_hand <= s.reorder_point as below_reorder_point,
    (s.quantity_on_hand * p.cost)::numeric(14, 2) as inventory_value
from stock as s
join "warehouse"."dim_products" as p on p.product_key = s.product_key
