select 1 as id, now() as changed_at
