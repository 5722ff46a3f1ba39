select order_id, order_date from {{ ref "raw_orders" }}
