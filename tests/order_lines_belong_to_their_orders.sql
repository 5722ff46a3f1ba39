-- Every order line belongs to an order of fact_orders, placed by the same customer. The two are matched on
-- the order and the customer: on the citus target both facts are sharded by customer, and Citus runs a
-- subquery between sharded tables only when it matches them on that key (each shard then checks itself).
select i.order_item_id, i.order_id, i.customer_id
from {{ ref "fact_order_items" }} as i
where not exists (
    select 1
    from {{ ref "fact_orders" }} as o
    where o.order_id = i.order_id
      and o.customer_id = i.customer_id
)
