{{ config "materialized" "view" }}
select *
from {{ ref "orders" }}
where region = {{ var "region" }}
