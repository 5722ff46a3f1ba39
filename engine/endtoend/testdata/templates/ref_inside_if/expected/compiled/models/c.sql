select id from "public"."a"

