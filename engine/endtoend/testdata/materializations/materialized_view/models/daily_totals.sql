select date '2024-01-01' as day, 3 as orders
