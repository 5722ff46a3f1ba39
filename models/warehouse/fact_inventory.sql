-- Stock levels per snapshot, product and warehouse, valued at the unit cost of the product version
-- valid on the snapshot date. Incremental: each run adds the snapshots newer than the newest loaded.
with stock as (
    select
        s.*,
        {{ include "version_at" (dict "dim" (ref "dim_products") "key" "product_key" "id" "product_id" "value" "s.product_id" "at" "s.snapshot_date") }} as product_key
    from {{ ref "stg_inventory" }} as s
    {{- if is_incremental }}
    where s.snapshot_date > (select coalesce(max(snapshot_date), date '1900-01-01') from {{ this }})
    {{- end }}
)
select
    s.snapshot_date,
    {{ include "date_key" "s.snapshot_date" }} as date_key,
    s.product_key,
    s.product_id,
    s.warehouse,
    s.quantity_on_hand,
    s.reorder_point,
    s.quantity_on_hand <= s.reorder_point as below_reorder_point,
    (s.quantity_on_hand * p.cost)::numeric(14, 2) as inventory_value
from stock as s
join {{ ref "dim_products" }} as p on p.product_key = s.product_key
