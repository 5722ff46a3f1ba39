-- One row per order, with its customer version, campaign, and amounts summed from its lines.
with lines as (
    select
        order_id,
        count(*) as item_count,
        sum(quantity) as units,
        sum(gross_amount) as gross_amount,
        sum(discount) as discount_amount,
        sum(net_amount) as net_amount,
        sum(cost_amount) as cost_amount,
        sum(profit_amount) as profit_amount
    from "warehouse"."fact_order_items"
    group by order_id
)
select
    o.order_id,
    o.order_date,
    o.order_day,
    (extract(year from o.order_day) * 10000 + extract(month from o.order_day) * 100 + extract(day from o.order_day))::integer as date_key,
    c.customer_key,
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
from "staging"."stg_orders" as o
join "warehouse"."dim_customers" as c on c.customer_id = o.customer_id and c.is_current
left join lines as l on l.order_id = o.order_id
