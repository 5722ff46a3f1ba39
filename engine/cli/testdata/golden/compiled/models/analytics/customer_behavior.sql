-- Customer behaviour on the website per calendar month, from the clickstream: sessions and events, how
-- often signed-in customers come back (sessions and events per customer), the session funnel from product
-- view to purchase, and how many signed-in customers who viewed a product placed a sales order (with at
-- least one line) in the same month. A session is one visitor on one day, so it falls in one month.
with sessions as (
    select
        e.session_id,
        date_trunc('month', min(e.event_day))::date as month,
        max(e.customer_id) as customer_id,
        count(*) as events,
        bool_or(e.event_type = 'product_view') as viewed_product,
        bool_or(e.event_type = 'add_to_cart') as added_to_cart,
        bool_or(e.event_type = 'checkout') as checked_out,
        bool_or(e.event_type = 'purchase') as purchased
    from "warehouse"."fact_clickstream" as e
    group by e.session_id
),
per_month as (
    select
        s.month,
        count(*) as sessions,
        sum(s.events) as events,
        count(*) filter (where s.customer_id is not null) as signed_in_sessions,
        coalesce(sum(s.events) filter (where s.customer_id is not null), 0) as signed_in_events,
        count(distinct s.customer_id) as active_customers,
        count(*) filter (where s.viewed_product) as product_view_sessions,
        count(*) filter (where s.added_to_cart) as cart_sessions,
        count(*) filter (where s.checked_out) as checkout_sessions,
        count(*) filter (where s.purchased) as purchase_sessions
    from sessions as s
    group by s.month
),
viewers as (
    select distinct s.month, s.customer_id
    from sessions as s
    where s.viewed_product and s.customer_id is not null
),
buyers as (
    select distinct date_trunc('month', o.order_day)::date as month, o.customer_id
    from "warehouse"."fact_orders" as o
    where (o.status not in ('cancelled', 'returned')) and (o.item_count > 0)
),
conversion as (
    select v.month, count(*) as viewing_customers, count(b.customer_id) as viewing_customers_who_ordered
    from viewers as v
    left join buyers as b on b.month = v.month and b.customer_id = v.customer_id
    group by v.month
)
select
    m.month,
    m.sessions,
    m.events,
    round(m.events::numeric / nullif(m.sessions, 0), 2) as events_per_session,
    m.signed_in_sessions,
    m.active_customers,
    round(m.signed_in_sessions::numeric / nullif(m.active_customers, 0), 2) as sessions_per_customer,
    round(m.signed_in_events::numeric / nullif(m.active_customers, 0), 2) as events_per_customer,
    m.product_view_sessions,
    m.cart_sessions,
    m.checkout_sessions,
    m.purchase_sessions,
    round(m.purchase_sessions::numeric / nullif(m.product_view_sessions, 0), 4) as view_to_purchase_rate,
    coalesce(c.viewing_customers, 0) as viewing_customers,
    coalesce(c.viewing_customers_who_ordered, 0) as viewing_customers_who_ordered,
    round(c.viewing_customers_who_ordered::numeric / nullif(c.viewing_customers, 0), 4) as view_to_order_rate
from per_month as m
left join conversion as c on c.month = m.month
