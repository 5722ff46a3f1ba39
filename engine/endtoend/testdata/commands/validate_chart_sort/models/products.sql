select 1 as product_name, 2.5 as revenue
