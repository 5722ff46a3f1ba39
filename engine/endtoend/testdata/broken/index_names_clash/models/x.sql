select 1 as y__z
