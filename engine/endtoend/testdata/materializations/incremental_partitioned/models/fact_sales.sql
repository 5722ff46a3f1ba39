select 1 as sale_id, date '2024-01-15' as sale_date
