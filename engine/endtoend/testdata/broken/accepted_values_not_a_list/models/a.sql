select 'north' as region
