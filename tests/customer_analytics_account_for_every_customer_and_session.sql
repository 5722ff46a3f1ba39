-- The Customer Analytics tables add up: customer_acquisition counts every current customer once as a
-- signup and every customer with a purchase once as a first-time buyer (the active customers of
-- executive_kpis), and customer_behavior counts every clickstream session and event once.
-- A row returned here shows the totals that disagree.
with expected as (
    select
        (select count(*) from {{ ref "dim_customers" }} where is_current) as new_customers,
        (select active_customers from {{ ref "executive_kpis" }}) as first_time_buyers,
        (select count(distinct session_id) from {{ ref "fact_clickstream" }}) as sessions,
        (select count(*) from {{ ref "fact_clickstream" }}) as events
),
actual as (
    select
        (select sum(new_customers) from {{ ref "customer_acquisition" }}) as new_customers,
        (select sum(first_time_buyers) from {{ ref "customer_acquisition" }}) as first_time_buyers,
        (select sum(converted_customers) from {{ ref "customer_acquisition" }}) as converted_customers,
        (select sum(sessions) from {{ ref "customer_behavior" }}) as sessions,
        (select sum(events) from {{ ref "customer_behavior" }}) as events
)
select
    e.new_customers as expected_new_customers, a.new_customers,
    e.first_time_buyers as expected_buyers, a.first_time_buyers, a.converted_customers,
    e.sessions as expected_sessions, a.sessions,
    e.events as expected_events, a.events
from expected as e
cross join actual as a
where (a.new_customers, a.first_time_buyers, a.converted_customers, a.sessions, a.events)
      is distinct from (e.new_customers, e.first_time_buyers, e.first_time_buyers, e.sessions, e.events)
