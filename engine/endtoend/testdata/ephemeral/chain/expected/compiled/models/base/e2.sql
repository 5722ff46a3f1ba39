with "__strata_ephemeral_e1" as (
select 1 as id
)
select id, id * 2 as doubled from "__strata_ephemeral_e1"
