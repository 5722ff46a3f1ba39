{{ config(materialized='incremental', unique_key='order_id') }}
select 1 as order_id
{% if is_incremental() %}
where order_id > (select max(order_id) from {{ this }})
{% endif %}
