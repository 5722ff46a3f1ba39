-- One row per product: duplicates removed, category normalised, rows without a positive price dropped.
with deduped as (
    select distinct on (product_id) *
    from "raw"."raw_products"
    order by product_id, updated_at desc
)
select
    product_id,
    nullif(trim(product_name), '') as product_name,
    case lower(trim(category)) when 'electronics' then 'Electronics' when 'home & kitchen' then 'Home & Kitchen' when 'clothing' then 'Clothing' when 'sports & outdoors' then 'Sports & Outdoors' when 'books' then 'Books' when 'beauty' then 'Beauty' end as category,
    nullif(trim(subcategory), '') as subcategory,
    nullif(trim(brand), '') as brand,
    price::numeric(12, 2) as price,
    cost::numeric(12, 2) as cost,
    is_active,
    updated_at
from deduped
where price is not null
  and price > 0
