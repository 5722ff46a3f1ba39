{{ config "materialized" "ephemeral" }}
select 1 as id, 250 as amount_cents, {{ include "region" }} as region
