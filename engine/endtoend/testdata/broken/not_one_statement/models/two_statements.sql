-- a model is one statement; a comment may say so ("; like this")
select 1 as id;
delete from public.audit_log;
