{{/* dbt habit: this.schema */}}
select 1 as id from {{ this.schema }}.x
