{{ config "materialized" "incremental" "indexes" (list (dict "columns" (list "a_b")) (dict "columns" (list "a" "b"))) }}
select 1 as a, 2 as b, 3 as a_b
