
select event_id, happened_at
from "public"."raw_events"

