{{ config "schema" (var "s") }}
select 1
