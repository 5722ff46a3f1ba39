with "__strata_ephemeral_valid_ids" as (
select 1 as id
)
select o.id from "public"."orders" as o
where o.id not in (select id from "__strata_ephemeral_valid_ids")
