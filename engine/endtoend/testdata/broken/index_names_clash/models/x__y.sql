select 1 as z
