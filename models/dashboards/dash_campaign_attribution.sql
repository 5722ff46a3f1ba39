{{ config "alias" "campaign_attribution" }}
-- Dashboard view in the public schema (BI tools often look only there).
select * from {{ ref "campaign_attribution" }}
