select (select max(id) from "public"."a") as latest_id
