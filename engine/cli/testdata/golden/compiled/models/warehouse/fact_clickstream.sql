-- One row per website event.
select
    e.event_id,
    e.session_id,
    e.event_timestamp,
    e.event_timestamp::date as event_day,
    (extract(year from e.event_timestamp::date) * 10000 + extract(month from e.event_timestamp::date) * 100 + extract(day from e.event_timestamp::date))::integer as date_key,
    c.customer_key,
    p.product_key,
    e.customer_id,
    e.product_id,
    e.event_type,
    e.device,
    e.referrer,
    e.campaign_id,
    e.page_url
from "staging"."stg_clickstream" as e
left join "warehouse"."dim_customers" as c on c.customer_id = e.customer_id and c.is_current
left join "warehouse"."dim_products" as p on p.product_id = e.product_id and p.is_current
