-- Customer acquisition per calendar month: customers who signed up, customers who bought for the first
-- time, and of each month's signups (a cohort) how many have bought since. The customers are the current
-- versions of dim_customers, as in customer_metrics; a purchase is a sales order with at least one line.
with customers as (
    select c.customer_id, date_trunc('month', c.signup_date)::date as signup_month
    from {{ ref "dim_customers" }} as c
    where c.is_current
),
first_purchases as (
    select o.customer_id, date_trunc('month', min(o.order_day))::date as first_purchase_month
    from {{ ref "fact_orders" }} as o
    where {{ include "is_sale" "o" }} and {{ include "has_lines" "o" }}
    group by o.customer_id
),
cohorts as (
    select c.signup_month as month, count(*) as new_customers, count(f.customer_id) as converted_customers
    from customers as c
    left join first_purchases as f on f.customer_id = c.customer_id
    group by c.signup_month
),
first_buyers as (
    select f.first_purchase_month as month, count(*) as first_time_buyers
    from first_purchases as f
    join customers as c on c.customer_id = f.customer_id
    group by f.first_purchase_month
)
select
    coalesce(c.month, b.month) as month,
    coalesce(c.new_customers, 0) as new_customers,
    coalesce(b.first_time_buyers, 0) as first_time_buyers,
    coalesce(c.converted_customers, 0) as converted_customers,
    -- NULL in a month without signups: there is no cohort to convert.
    round(c.converted_customers::numeric / nullif(c.new_customers, 0), 4) as conversion_rate
from cohorts as c
full join first_buyers as b on b.month = c.month
