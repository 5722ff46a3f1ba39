select * from "public"."a"
