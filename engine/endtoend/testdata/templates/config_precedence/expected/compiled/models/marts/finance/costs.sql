select 2 as amount
