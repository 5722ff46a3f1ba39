{{ config "alias" "daily_sales" }}
-- Dashboard view in the public schema (BI tools often look only there).
select * from {{ ref "daily_sales" }}
