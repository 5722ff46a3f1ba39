select order_id from {{ ref "raw_orders" }}
