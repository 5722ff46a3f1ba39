with "__strata_ephemeral_shared" as (
select 1 as id
)
select id from "__strata_ephemeral_shared"
