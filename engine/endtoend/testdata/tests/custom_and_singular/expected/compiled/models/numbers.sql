select 2 as n
