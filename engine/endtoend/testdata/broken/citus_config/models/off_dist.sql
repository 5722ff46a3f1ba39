{{ config "enabled" false "materialized" "table" "distributed_by" "id" }}select 1 as id
