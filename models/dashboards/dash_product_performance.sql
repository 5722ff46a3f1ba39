{{ config "alias" "product_performance" }}
-- Dashboard view in the public schema (BI tools often look only there).
select * from {{ ref "product_performance" }}
