select p.id, upper(p.name) as name from {{ ref "stg_people" }} as p
