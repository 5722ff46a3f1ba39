-- Stock levels per snapshot, product and warehouse, valued at cost.
select
    s.snapshot_date,
    {{ include "date_key" "s.snapshot_date" }} as date_key,
    p.product_key,
    s.product_id,
    s.warehouse,
    s.quantity_on_hand,
    s.reorder_point,
    s.quantity_on_hand <= s.reorder_point as below_reorder_point,
    (s.quantity_on_hand * p.cost)::numeric(14, 2) as inventory_value
from {{ ref "stg_inventory" }} as s
join {{ ref "dim_products" }} as p on p.product_id = s.product_id and p.is_current
