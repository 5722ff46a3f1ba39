-- One row per order line: duplicates removed; lines for unknown products or orders,
-- or with a non-positive quantity or price, dropped.
with deduped as (
    select distinct on (order_item_id) *
    from "raw"."raw_order_items"
    order by order_item_id
)
select
    i.order_item_id,
    i.order_id,
    i.product_id,
    i.quantity::integer as quantity,
    i.unit_price::numeric(12, 2) as unit_price,
    coalesce(i.discount, 0)::numeric(12, 2) as discount
from deduped as i
where i.quantity > 0
  and i.unit_price > 0
  and exists (select 1 from "staging"."stg_products" as p where p.product_id = i.product_id)
  and exists (select 1 from "staging"."stg_orders" as o where o.order_id = i.order_id)
