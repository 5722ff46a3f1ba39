select o.* from {{ ref "stg_orders" }} as o
join {{ include "customers" }} as c using (customer_id)
