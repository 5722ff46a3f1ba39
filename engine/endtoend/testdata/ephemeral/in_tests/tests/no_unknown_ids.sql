select o.id from {{ ref "orders" }} as o
where o.id not in (select id from {{ ref "valid_ids" }})
