select 1 as channel
