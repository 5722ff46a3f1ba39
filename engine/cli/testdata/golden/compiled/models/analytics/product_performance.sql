-- One row per current product: units sold, revenue, profit margin and inventory turnover
-- (units sold over the average stock on hand across snapshots).
with sales as (
    select
        i.product_id,
        sum(i.quantity) as units_sold,
        sum(i.net_amount) as revenue,
        sum(i.cost_amount) as cost,
        sum(i.profit_amount) as profit
    from "warehouse"."fact_order_items" as i
    where i.status not in ('cancelled', 'returned')
    group by i.product_id
),
stock as (
    select product_id, avg(on_hand) as avg_on_hand
    from (
        select product_id, snapshot_date, sum(quantity_on_hand) as on_hand
        from "warehouse"."fact_inventory"
        group by product_id, snapshot_date
    ) as per_snapshot
    group by product_id
)
select
    p.product_key,
    p.product_id,
    p.product_name,
    p.category,
    p.brand,
    p.price,
    coalesce(s.units_sold, 0) as units_sold,
    coalesce(s.revenue, 0)::numeric(14, 2) as revenue,
    coalesce(s.profit, 0)::numeric(14, 2) as profit,
    round(coalesce(s.profit / nullif(s.revenue, 0), 0), 4) as profit_margin,
    round(coalesce(st.avg_on_hand, 0), 2) as avg_on_hand,
    round(coalesce(s.units_sold / nullif(st.avg_on_hand, 0), 0), 4) as inventory_turnover
from "warehouse"."dim_products" as p
left join sales as s on s.product_id = p.product_id
left join stock as st on st.product_id = p.product_id
where p.is_current
