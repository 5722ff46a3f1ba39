with "__strata_ephemeral_cleaned" as (
select 1 as id, 'x' as name
)
select name from "__strata_ephemeral_cleaned"
