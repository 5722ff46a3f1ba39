{{ config "materialized" "table" }}select name from {{ ref "cleaned" }}
