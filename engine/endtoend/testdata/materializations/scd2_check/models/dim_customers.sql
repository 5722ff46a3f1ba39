select 1 as customer_id, 'a@example.com' as email, 'retail' as segment, 'Oslo' as city
