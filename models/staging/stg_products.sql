-- One row per product: duplicates removed, category normalised, rows without a positive price dropped.
with deduped as (
    select distinct on (product_id) *
    from {{ ref "raw_products" }}
    order by product_id, updated_at desc
)
select
    product_id,
    {{ include "clean_text" "product_name" }} as product_name,
    {{ include "canonical" (list "category" "Electronics" "Home & Kitchen" "Clothing" "Sports & Outdoors" "Books" "Beauty") }} as category,
    {{ include "clean_text" "subcategory" }} as subcategory,
    {{ include "clean_text" "brand" }} as brand,
    price::numeric(12, 2) as price,
    cost::numeric(12, 2) as cost,
    is_active,
    updated_at
from deduped
where price is not null
  and price > 0
