select 1
union all
select * from {{ ref "a" }}
