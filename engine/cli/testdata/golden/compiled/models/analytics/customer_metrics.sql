-- One row per current customer: lifetime value, order count, average order value, recency and churn risk.
-- Recency is measured from the newest order in the data (not the wall clock), so the same data gives the same result.
-- Orders left without any valid line by staging are not orders here.
with as_of as (
    select max(order_day) as as_of_day from "warehouse"."fact_orders" as o where (o.item_count > 0)
),
per_customer as (
    select
        customer_id,
        count(*) filter (where (o.status not in ('cancelled', 'returned'))) as order_count,
        coalesce(sum(net_amount) filter (where (o.status not in ('cancelled', 'returned'))), 0) as lifetime_value,
        min(order_day) as first_order_day,
        max(order_day) as last_order_day
    from "warehouse"."fact_orders" as o
    where (o.item_count > 0)
    group by customer_id
)
select
    c.customer_key,
    c.customer_id,
    c.segment,
    c.state,
    c.signup_date,
    coalesce(p.order_count, 0) as order_count,
    coalesce(p.lifetime_value, 0)::numeric(14, 2) as lifetime_value,
    round(coalesce(p.lifetime_value / nullif(p.order_count, 0), 0), 2) as avg_order_value,
    p.first_order_day,
    p.last_order_day,
    (a.as_of_day - p.last_order_day) as days_since_last_order,
    case
        when p.last_order_day is null then 'never_ordered'
        when a.as_of_day - p.last_order_day > 180 then 'high'
        when a.as_of_day - p.last_order_day > 90 or coalesce(p.order_count, 0) <= 1 then 'medium'
        else 'low'
    end as churn_risk
from "warehouse"."dim_customers" as c
cross join as_of as a
left join per_customer as p on p.customer_id = c.customer_id
where c.is_current
