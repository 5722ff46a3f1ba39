-- One row per order, with the customer version valid when it was placed, its campaign,
-- and amounts summed from its lines. Incremental: the order history is append-only with increasing ids,
-- so each run adds the orders after the last id loaded (a filter on the key of staging's dedupe, which
-- PostgreSQL pushes down to an index scan of the raw seed).
with new_orders as (
    select *
    from "staging"."stg_orders" as o
),
lines as (
    select
        i.order_id,
        count(*) as item_count,
        sum(i.quantity) as units,
        sum(i.gross_amount) as gross_amount,
        sum(i.discount) as discount_amount,
        sum(i.net_amount) as net_amount,
        sum(i.cost_amount) as cost_amount,
        sum(i.profit_amount) as profit_amount
    from "warehouse"."fact_order_items" as i
    where i.order_id in (select order_id from new_orders)
    group by i.order_id
)
select
    o.order_id,
    o.order_date,
    o.order_day,
    (extract(year from o.order_day) * 10000 + extract(month from o.order_day) * 100 + extract(day from o.order_day))::integer as date_key,
    (select d."customer_key" from "warehouse"."dim_customers" as d
  where d."customer_id" = o.customer_id
  order by (d.effective_date <= o.order_date) desc,
           case when d.effective_date <= o.order_date then d.effective_date end desc,
           d.effective_date
  limit 1) as customer_key,
    o.customer_id,
    o.campaign_id,
    o.status,
    o.channel,
    o.payment_method,
    coalesce(l.item_count, 0) as item_count,
    coalesce(l.units, 0) as units,
    coalesce(l.gross_amount, 0) as gross_amount,
    coalesce(l.discount_amount, 0) as discount_amount,
    coalesce(l.net_amount, 0) as net_amount,
    o.shipping_cost,
    coalesce(l.net_amount, 0) + o.shipping_cost as total_amount,
    coalesce(l.cost_amount, 0) as cost_amount,
    coalesce(l.profit_amount, 0) as profit_amount
from new_orders as o
left join lines as l on l.order_id = o.order_id
