-- One row per event: duplicates removed, event type and device normalised; events without a type
-- or a time, or pointing at an unknown product, dropped.
with deduped as (
    select distinct on (event_id) *
    from {{ ref "raw_clickstream" }}
    order by event_id
),
cleaned as (
    select
        event_id,
        session_id,
        customer_id,
        product_id,
        {{ include "canonical" (list "event_type" "page_view" "product_view" "add_to_cart" "checkout" "purchase") }} as event_type,
        event_timestamp,
        {{ include "canonical" (list "device" "desktop" "mobile" "tablet") }} as device,
        {{ include "clean_text" "referrer" }} as referrer,
        campaign_id,
        {{ include "clean_text" "page_url" }} as page_url
    from deduped
)
select *
from cleaned as e
where e.event_type is not null
  and e.event_timestamp is not null
  and (e.product_id is null or exists (select 1 from {{ ref "stg_products" }} as p where p.product_id = e.product_id))
