-- One row per website event, with the customer and product versions valid at the event.
-- Incremental: events are append-only with increasing ids; each run adds the events after the last id loaded.
-- visitor_id is who visited: the customer, or for an anonymous session its session id negated (a session is
-- either signed in or anonymous throughout). Every event has one, so the citus target shards the events by
-- it, next to the customer's orders (see warehouse.yml).
select
    e.event_id,
    e.session_id,
    e.event_timestamp,
    e.event_timestamp::date as event_day,
    (extract(year from e.event_timestamp::date) * 10000 + extract(month from e.event_timestamp::date) * 100 + extract(day from e.event_timestamp::date))::integer as date_key,
    case when e.customer_id is not null then
        (select d."customer_key" from "warehouse"."dim_customers" as d
  where d."customer_id" = e.customer_id
  order by (d.effective_date <= e.event_timestamp) desc,
           case when d.effective_date <= e.event_timestamp then d.effective_date end desc,
           d.effective_date
  limit 1)
    end as customer_key,
    case when e.product_id is not null then
        (select d."product_key" from "warehouse"."dim_products" as d
  where d."product_id" = e.product_id
  order by (d.effective_date <= e.event_timestamp) desc,
           case when d.effective_date <= e.event_timestamp then d.effective_date end desc,
           d.effective_date
  limit 1)
    end as product_key,
    e.customer_id,
    coalesce(e.customer_id, -e.session_id) as visitor_id,
    e.product_id,
    e.event_type,
    e.device,
    e.referrer,
    e.campaign_id,
    e.page_url
from "staging"."stg_clickstream" as e
