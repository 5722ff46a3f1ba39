-- Campaign dimension.
select
    campaign_id,
    campaign_name,
    channel,
    start_date,
    end_date,
    (end_date - start_date + 1) as duration_days,
    budget
from "staging"."stg_marketing_campaigns"
