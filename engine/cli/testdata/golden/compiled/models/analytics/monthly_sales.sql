-- Sales per calendar month, with the same revenue rule as daily_sales.
select
    date_trunc('month', order_day)::date as month,
    sum(orders) as orders,
    sum(sales_orders) as sales_orders,
    sum(units) as units,
    sum(revenue)::numeric(14, 2) as revenue,
    sum(profit)::numeric(14, 2) as profit,
    round(sum(revenue) / nullif(sum(sales_orders), 0), 2) as avg_order_value,
    sum(returned_orders) as returned_orders
from "analytics"."daily_sales"
group by 1
