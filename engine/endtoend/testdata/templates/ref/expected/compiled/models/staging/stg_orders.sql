select order_id from "public"."raw_orders"
