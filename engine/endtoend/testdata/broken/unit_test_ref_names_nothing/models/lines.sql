{{ config "materialized" "ephemeral" }}
select order_id from {{ ref "order_lines" }}
