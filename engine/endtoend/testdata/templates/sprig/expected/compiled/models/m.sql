select 0 as "A", 1 as "B", 2 as "C"
-- hellohello a+b+c 3
