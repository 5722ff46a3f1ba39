select o.order_id
from {{ ref "stg_orders" }} as o
join {{ ref "Odd Name" }} as n on true
