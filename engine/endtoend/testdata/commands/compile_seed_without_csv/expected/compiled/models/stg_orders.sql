select order_id from "raw"."raw_orders"
