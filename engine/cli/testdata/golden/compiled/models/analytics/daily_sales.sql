-- Sales per day. Revenue is the net amount (after line discounts, before shipping) of orders
-- that were not cancelled or returned. Orders left without any valid line by staging are not counted.
select
    o.order_day,
    t.day_name,
    t.is_weekend,
    count(*) as orders,
    count(*) filter (where (o.status not in ('cancelled', 'returned'))) as sales_orders,
    count(distinct o.customer_id) as customers,
    coalesce(sum(o.units) filter (where (o.status not in ('cancelled', 'returned'))), 0) as units,
    coalesce(sum(o.net_amount) filter (where (o.status not in ('cancelled', 'returned'))), 0)::numeric(14, 2) as revenue,
    coalesce(sum(o.profit_amount) filter (where (o.status not in ('cancelled', 'returned'))), 0)::numeric(14, 2) as profit,
    round(coalesce(avg(o.net_amount) filter (where (o.status not in ('cancelled', 'returned'))), 0), 2) as avg_order_value,
    count(*) filter (where o.status = 'returned') as returned_orders
from "warehouse"."fact_orders" as o
join "warehouse"."dim_time" as t on t.date_key = o.date_key
where (o.item_count > 0)
group by o.order_day, t.day_name, t.is_weekend
