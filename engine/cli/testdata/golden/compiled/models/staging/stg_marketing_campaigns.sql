-- One row per campaign, channel normalised.
select
    campaign_id,
    nullif(trim(campaign_name), '') as campaign_name,
    case lower(trim(channel)) when 'email' then 'Email' when 'social' then 'Social' when 'search' then 'Search' when 'display' then 'Display' when 'affiliate' then 'Affiliate' end as channel,
    start_date,
    end_date,
    budget::numeric(12, 2) as budget
from "raw"."raw_marketing_campaigns"
