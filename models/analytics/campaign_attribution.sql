-- Simplified attribution: an order counts for every campaign whose
-- window (start_date to end_date, inclusive) contains its order day. Orders left without any valid line
-- by staging are not counted.
select
    c.campaign_id,
    c.campaign_name,
    c.channel,
    c.start_date,
    c.end_date,
    c.budget,
    count(o.order_id) filter (where {{ include "is_sale" "o" }}) as attributed_orders,
    count(o.order_id) filter (where o.campaign_id = c.campaign_id) as tagged_orders,
    coalesce(sum(o.net_amount) filter (where {{ include "is_sale" "o" }}), 0)::numeric(14, 2) as attributed_revenue,
    round(coalesce(sum(o.net_amount) filter (where {{ include "is_sale" "o" }}), 0) / nullif(c.budget, 0), 4) as revenue_per_budget
from {{ ref "dim_marketing_campaigns" }} as c
left join {{ ref "fact_orders" }} as o on o.order_day between c.start_date and c.end_date and {{ include "has_lines" "o" }}
group by c.campaign_id, c.campaign_name, c.channel, c.start_date, c.end_date, c.budget
