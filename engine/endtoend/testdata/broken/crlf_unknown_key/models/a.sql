select 1
