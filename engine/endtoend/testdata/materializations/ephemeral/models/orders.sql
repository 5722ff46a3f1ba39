select order_id from {{ ref "base_orders" }} where order_id > 0
