-- Date dimension, generated from the dates that actually occur in the order and clickstream facts.
with dates as (
    select distinct order_day as date_day from {{ ref "fact_orders" }}
    union
    select distinct event_day from {{ ref "fact_clickstream" }}
)
select
    {{ include "date_key" "date_day" }} as date_key,
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
