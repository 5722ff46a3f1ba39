{{ config "materialized" "incremental" }}
select event_id, happened_at
from {{ ref "raw_events" }}
{{ if is_incremental }}where happened_at > (select max(happened_at) from {{ this }}){{ end }}
