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
        (select d."customer_key" from "warehouse"."dim_customers" as d
  where d."customer_id" = o.customer_id
  order by (d.effective_date <= o.order_date) desc,
           case when d.effective_date <= o.order_date then d.effective_date end desc,
           d.effective_date
  limit 1) as customer_key,
        (select d."product_key" from "warehouse"."dim_products" as d
  where d."product_id" = i.product_id
  order by (d.effective_date <= o.order_date) desc,
           case when d.effective_date <= o.order_date then d.effective_date end desc,
           d.effective_date
  limit 1) as product_key
    from "staging"."stg_order_items" as i
    join "staging"."stg_orders" as o on o.order_id = i.order_id
)
select
    l.order_item_id,
    l.order_id,
    l.order_date,
    l.order_day,
    (extract(year from l.order_day) * 10000 + extract(month from l.order_day) * 100 + extract(day from l.order_day))::integer as date_key,
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
join "warehouse"."dim_products" as p on p.product_key = l.product_key
