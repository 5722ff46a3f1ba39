select 1 as id, {{ var "region" }} as region
