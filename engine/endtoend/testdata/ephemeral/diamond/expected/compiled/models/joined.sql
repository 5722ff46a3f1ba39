with "__strata_ephemeral_shared" as (
select 1 as id
),
"__strata_ephemeral_left_side" as (
select id from "__strata_ephemeral_shared"
),
"__strata_ephemeral_right_side" as (
select id from "__strata_ephemeral_shared"
)
select l.id from "__strata_ephemeral_left_side" as l join "__strata_ephemeral_right_side" as r using (id)
