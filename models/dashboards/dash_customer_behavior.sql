{{ config "alias" "customer_behavior" }}
-- Dashboard view in the public schema (BI tools often look only there).
select * from {{ ref "customer_behavior" }}
