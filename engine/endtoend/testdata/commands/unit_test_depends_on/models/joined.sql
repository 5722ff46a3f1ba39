select o.id, o.amount from {{ ref "orders" }} o join {{ ref "customers" }} c on c.id = o.id
