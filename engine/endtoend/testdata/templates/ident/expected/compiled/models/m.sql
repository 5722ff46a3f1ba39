select 1 as "Order ID", 2 as "plain", 3 as "has""quote", 4 as "über"
