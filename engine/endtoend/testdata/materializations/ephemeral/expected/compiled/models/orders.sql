with "__strata_ephemeral_base_orders" as (
select 1 as order_id
)
select order_id from "__strata_ephemeral_base_orders" where order_id > 0
