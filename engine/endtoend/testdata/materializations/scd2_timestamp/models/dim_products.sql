select 1 as product_id, 9.99 as price, timestamptz '2024-01-01 00:00+00' as updated_at
