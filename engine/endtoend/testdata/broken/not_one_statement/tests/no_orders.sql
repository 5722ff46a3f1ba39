select * from {{ ref "orders" }} where id < 0;
insert into public.audit_log values (1)
