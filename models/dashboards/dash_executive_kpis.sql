{{ config "alias" "executive_kpis" }}
-- Dashboard view in the public schema (BI tools often look only there).
select * from {{ ref "executive_kpis" }}
