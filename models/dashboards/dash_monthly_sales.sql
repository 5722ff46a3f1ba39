{{ config "alias" "monthly_sales" }}
-- Dashboard view in the public schema (BI tools often look only there).
select * from {{ ref "monthly_sales" }}
