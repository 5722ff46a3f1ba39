select 1 as store_id, 'Main street' as address
