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
    {{ include "date_key" "e.event_timestamp::date" }} as date_key,
    case when e.customer_id is not null then
        {{ include "version_at" (dict "dim" (ref "dim_customers") "key" "customer_key" "id" "customer_id" "value" "e.customer_id" "at" "e.event_timestamp") }}
    end as customer_key,
    case when e.product_id is not null then
        {{ include "version_at" (dict "dim" (ref "dim_products") "key" "product_key" "id" "product_id" "value" "e.product_id" "at" "e.event_timestamp") }}
    end as product_key,
    e.customer_id,
    coalesce(e.customer_id, -e.session_id) as visitor_id,
    e.product_id,
    e.event_type,
    e.device,
    e.referrer,
    e.campaign_id,
    e.page_url
from {{ ref "stg_clickstream" }} as e
{{- if is_incremental }}
where e.event_id > (select coalesce(max(event_id), 0) from {{ this }})
{{- end }}
