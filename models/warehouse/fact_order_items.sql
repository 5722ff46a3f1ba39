-- One row per order line, with the product and customer versions valid when the order was placed
-- and the derived amounts: gross, net of discount, cost (at that version's unit cost) and profit.
-- Incremental: order lines are append-only with increasing ids; each run adds the lines after the last id loaded.
with lines as (
    select
        i.order_item_id,
        i.order_id,
        o.order_date,
        o.order_day,
        o.customer_id,
        i.product_id,
        o.status,
        i.quantity,
        i.unit_price,
        i.discount,
        {{ include "version_at" (dict "dim" (ref "dim_customers") "key" "customer_key" "id" "customer_id" "value" "o.customer_id" "at" "o.order_date") }} as customer_key,
        {{ include "version_at" (dict "dim" (ref "dim_products") "key" "product_key" "id" "product_id" "value" "i.product_id" "at" "o.order_date") }} as product_key
    from {{ ref "stg_order_items" }} as i
    join {{ ref "stg_orders" }} as o on o.order_id = i.order_id
    {{- if is_incremental }}
    where i.order_item_id > (select coalesce(max(order_item_id), 0) from {{ this }})
    {{- end }}
)
select
    l.order_item_id,
    l.order_id,
    l.order_date,
    l.order_day,
    {{ include "date_key" "l.order_day" }} as date_key,
    l.customer_key,
    l.product_key,
    l.customer_id,
    l.product_id,
    l.status,
    l.quantity,
    l.unit_price,
    l.discount,
    (l.quantity * l.unit_price)::numeric(14, 2) as gross_amount,
    (l.quantity * l.unit_price - l.discount)::numeric(14, 2) as net_amount,
    (l.quantity * p.cost)::numeric(14, 2) as cost_amount,
    (l.quantity * l.unit_price - l.discount - l.quantity * p.cost)::numeric(14, 2) as profit_amount
from lines as l
join {{ ref "dim_products" }} as p on p.product_key = l.product_key
