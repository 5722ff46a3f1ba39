-- One row of headline figures for the executive summary.
select
    sum(revenue)::numeric(14, 2) as total_revenue,
    sum(profit)::numeric(14, 2) as total_profit,
    round(sum(profit) / nullif(sum(revenue), 0), 4) as profit_margin,
    sum(orders) as total_orders,
    sum(sales_orders) as sales_orders,
    round(sum(revenue) / nullif(sum(sales_orders), 0), 2) as avg_order_value,
    round(sum(returned_orders)::numeric / nullif(sum(orders), 0), 4) as return_rate,
    (select count(*) from "analytics"."customer_metrics" where order_count > 0) as active_customers,
    (select count(*) from "analytics"."customer_metrics" where churn_risk = 'high') as high_churn_risk_customers,
    min(order_day) as first_order_day,
    max(order_day) as last_order_day
from "analytics"."daily_sales"
