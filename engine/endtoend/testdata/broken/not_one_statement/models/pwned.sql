{{ config "materialized" "table" }}
select 1 as a) ; create table public.pwned2 as (select 2 as b
