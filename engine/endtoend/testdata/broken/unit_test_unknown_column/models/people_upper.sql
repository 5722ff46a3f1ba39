select p.id, upper(p.name) as name, 1 as flag from {{ ref "stg_people" }} as p
