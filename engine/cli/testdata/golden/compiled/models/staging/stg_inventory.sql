-- One row per (snapshot date, product, warehouse): warehouse normalised before duplicates are removed,
-- negative stock levels dropped.
with cleaned as (
    select
        snapshot_date,
        product_id,
        upper(trim(warehouse)) as warehouse,
        quantity_on_hand::integer as quantity_on_hand,
        reorder_point::integer as reorder_point
    from "raw"."raw_inventory"
),
deduped as (
    select distinct on (snapshot_date, product_id, warehouse) *
    from cleaned
    order by snapshot_date, product_id, warehouse
)
select *
from deduped
where quantity_on_hand >= 0
