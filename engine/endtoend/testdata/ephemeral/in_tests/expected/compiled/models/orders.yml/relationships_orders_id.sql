with "__strata_ephemeral_valid_ids" as (
select 1 as id
)
select child."id" as from_field, count(*) as n_records from "public"."orders" as child where child."id" is not null and not exists (select 1 from "__strata_ephemeral_valid_ids" as parent where parent."id" = child."id") group by child."id"