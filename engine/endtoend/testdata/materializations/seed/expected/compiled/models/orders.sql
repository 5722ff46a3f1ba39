select order_id, order_date from "raw"."raw_orders"
