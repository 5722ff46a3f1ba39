select 1 as name
