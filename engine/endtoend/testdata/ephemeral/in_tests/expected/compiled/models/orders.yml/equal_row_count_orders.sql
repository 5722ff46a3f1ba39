with "__strata_ephemeral_valid_ids" as (
select 1 as id
)
select * from (select (select count(*) from "public"."orders") as row_count, (select count(*) from "__strata_ephemeral_valid_ids") as other_row_count) as counts where row_count <> other_row_count