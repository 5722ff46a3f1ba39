{{ config "materialized" "table" }}
-- only config
