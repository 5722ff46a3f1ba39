select 1 as id, 'a' as name, 1 as region_id
