-- Stock levels per snapshot, product and warehouse, valued at cost.
select
    s.snapshot_date,
    (extract(year from s.snapshot_date) * 10000 + extract(month from s.snapshot_date) * 100 + extract(day from s.snapshot_date))::integer as date_key,
    p.product_key,
    s.product_id,
    s.warehouse,
    s.quantity_on_hand,
    s.reorder_point,
    s.quantity_on_hand <= s.reorder_point as below_reorder_point,
    (s.quantity_on_hand * p.cost)::numeric(14, 2) as inventory_value
from "staging"."stg_inventory" as s
join "warehouse"."dim_products" as p on p.product_id = s.product_id and p.is_current
