-- One row per order: duplicates removed, status normalised; orders without a known customer
-- or with a negative shipping cost dropped.
with deduped as (
    select distinct on (order_id) *
    from "raw"."raw_orders"
    order by order_id
)
select
    o.order_id,
    o.customer_id,
    o.order_date,
    o.order_date::date as order_day,
    case lower(trim(o.status)) when 'placed' then 'placed' when 'shipped' then 'shipped' when 'delivered' then 'delivered' when 'returned' then 'returned' when 'cancelled' then 'cancelled' end as status,
    nullif(trim(o.channel), '') as channel,
    o.campaign_id,
    nullif(trim(o.payment_method), '') as payment_method,
    o.shipping_cost::numeric(12, 2) as shipping_cost,
    o.discount_amount::numeric(12, 2) as discount_amount
from deduped as o
where o.customer_id is not null
  and o.shipping_cost >= 0
  and exists (select 1 from "staging"."stg_customers" as c where c.customer_id = o.customer_id)
