
-- Dashboard view in the public schema (BI tools often look only there).
select * from "analytics"."customer_behavior"
