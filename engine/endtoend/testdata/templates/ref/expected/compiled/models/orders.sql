select o.order_id
from "staging"."stg_orders" as o
join "public"."Odd Name" as n on true
