-- One row per event: duplicates removed, event type and device normalised; events without a type
-- or a time, or pointing at an unknown product, dropped.
with deduped as (
    select distinct on (event_id) *
    from "raw"."raw_clickstream"
    order by event_id
),
cleaned as (
    select
        event_id,
        session_id,
        customer_id,
        product_id,
        case lower(trim(event_type)) when 'page_view' then 'page_view' when 'product_view' then 'product_view' when 'add_to_cart' then 'add_to_cart' when 'checkout' then 'checkout' when 'purchase' then 'purchase' end as event_type,
        event_timestamp,
        case lower(trim(device)) when 'desktop' then 'desktop' when 'mobile' then 'mobile' when 'tablet' then 'tablet' end as device,
        nullif(trim(referrer), '') as referrer,
        campaign_id,
        nullif(trim(page_url), '') as page_url
    from deduped
)
select *
from cleaned as e
where e.event_type is not null
  and e.event_timestamp is not null
  and (e.product_id is null or exists (select 1 from "staging"."stg_products" as p where p.product_id = e.product_id))
