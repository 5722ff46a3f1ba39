select o.id, o.amount from "public"."orders" o join "public"."customers" c on c.id = o.id
