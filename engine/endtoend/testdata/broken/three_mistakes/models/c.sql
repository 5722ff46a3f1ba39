select 1 where d > {{ var "start" }}
