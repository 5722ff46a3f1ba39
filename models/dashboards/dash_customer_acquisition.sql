{{ config "alias" "customer_acquisition" }}
-- Dashboard view in the public schema (BI tools often look only there).
select * from {{ ref "customer_acquisition" }}
