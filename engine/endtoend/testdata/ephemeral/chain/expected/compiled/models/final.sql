with "__strata_ephemeral_e1" as (
select 1 as id
),
"__strata_ephemeral_e2" as (
select id, id * 2 as doubled from "__strata_ephemeral_e1"
),
"__strata_ephemeral_e3" as (
select id, doubled + 1 as odd from "__strata_ephemeral_e2"
)
select * from "__strata_ephemeral_e3"
