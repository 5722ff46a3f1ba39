-- One row per campaign, channel normalised.
select
    campaign_id,
    {{ include "clean_text" "campaign_name" }} as campaign_name,
    {{ include "canonical" (list "channel" "Email" "Social" "Search" "Display" "Affiliate") }} as channel,
    start_date,
    end_date,
    budget::numeric(12, 2) as budget
from {{ ref "raw_marketing_campaigns" }}
