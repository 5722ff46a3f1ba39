-- Date dimension, generated from the dates that actually occur in the source tables: order days,
-- clickstream days, inventory snapshots, campaign start and end days, and customer signup days
-- (every version of the customer dimension, so a customer who left still has their signup day).
with dates as (
    select order_day as date_day from "warehouse"."fact_orders"
    union
    select event_day from "warehouse"."fact_clickstream"
    union
    select snapshot_date from "warehouse"."fact_inventory"
    union
    select start_date from "warehouse"."dim_marketing_campaigns"
    union
    select end_date from "warehouse"."dim_marketing_campaigns"
    union
    select signup_date from "warehouse"."dim_customers"
)
select
    (extract(year from date_day) * 10000 + extract(month from date_day) * 100 + extract(day from date_day))::integer as date_key,
    date_day,
    extract(isodow from date_day)::integer as day_of_week,
    trim(to_char(date_day, 'Day')) as day_name,
    extract(week from date_day)::integer as week_of_year,
    extract(month from date_day)::integer as month,
    trim(to_char(date_day, 'Month')) as month_name,
    extract(quarter from date_day)::integer as quarter,
    extract(year from date_day)::integer as year,
    extract(isodow from date_day) in (6, 7) as is_weekend
from dates
where date_day is not null
