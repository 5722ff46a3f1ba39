{{ config "materialized" "ephemeral" }}
select 1 as id) union all (select 2
