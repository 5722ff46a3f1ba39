{{ config "materialized" "ephemeral" }}
select 1 as a from {{ this }}
