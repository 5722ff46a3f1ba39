{# a dbt
   comment #}
select 1 as a, format('{%s}', 1) as b
