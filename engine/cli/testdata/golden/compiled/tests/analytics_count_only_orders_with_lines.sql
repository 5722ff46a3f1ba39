-- An order counts in the analytics only when it has at least one order line: staging drops bad lines,
-- and an order whose every line was dropped sold nothing (fact_orders keeps it with item_count = 0).
-- Counted independently from fact_order_items, the orders, sales orders and customers with sales must
-- equal what daily_sales, customer_metrics and executive_kpis report. A row returned here shows figures
-- that count orders without lines (as $0 sales) or lose orders with lines.
with expected as (
    select
        count(distinct i.order_id) as orders,
        count(distinct i.order_id) filter (where (i.status not in ('cancelled', 'returned'))) as sales_orders,
        count(distinct i.customer_id) filter (where (i.status not in ('cancelled', 'returned'))) as active_customers
    from "warehouse"."fact_order_items" as i
),
actual as (
    select
        (select sum(orders) from "analytics"."daily_sales") as orders,
        (select sum(sales_orders) from "analytics"."daily_sales") as sales_orders,
        (select sum(order_count) from "analytics"."customer_metrics") as customer_sales_orders,
        (select active_customers from "analytics"."executive_kpis") as active_customers
)
select
    e.orders as expected_orders, a.orders,
    e.sales_orders as expected_sales_orders, a.sales_orders, a.customer_sales_orders,
    e.active_customers as expected_active_customers, a.active_customers
from expected as e
cross join actual as a
where (a.orders, a.sales_orders, a.customer_sales_orders, a.active_customers)
      is distinct from (e.orders, e.sales_orders, e.sales_orders, e.active_customers)
