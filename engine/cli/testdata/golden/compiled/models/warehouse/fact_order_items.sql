-- One row per order line, with the dimension versions valid when the order was placed
-- and the derived amounts: gross, net of discount, cost and profit.
select
    i.order_item_id,
    i.order_id,
    o.order_date,
    o.order_day,
    (extract(year from o.order_day) * 10000 + extract(month from o.order_day) * 100 + extract(day from o.order_day))::integer as date_key,
    c.customer_key,
    p.product_key,
    o.customer_id,
    i.product_id,
    o.status,
    i.quantity,
    i.unit_price,
    i.discount,
    (i.quantity * i.unit_price)::numeric(14, 2) as gross_amount,
    (i.quantity * i.unit_price - i.discount)::numeric(14, 2) as net_amount,
    (i.quantity * p.cost)::numeric(14, 2) as cost_amount,
    (i.quantity * i.unit_price - i.discount - i.quantity * p.cost)::numeric(14, 2) as profit_amount
from "staging"."stg_order_items" as i
join "staging"."stg_orders" as o on o.order_id = i.order_id
join "warehouse"."dim_customers" as c on c.customer_id = o.customer_id and c.is_current
join "warehouse"."dim_products" as p on p.product_id = i.product_id and p.is_current
