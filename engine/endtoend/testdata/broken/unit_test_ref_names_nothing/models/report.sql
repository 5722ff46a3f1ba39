select o.id, c.name
from {{ ref "orders" }} as o
join {{ ref "custmers" }} as c on c.id = o.customer_id
join {{ ref "old_regions" }} as r on r.id = c.region_id
join {{ ref "lines" }} as l on l.order_id = o.id
join {{ source "crm" "accounts" }} as a on a.id = c.id
