-- Product dimension. One current version per product for now (see dim_customers).
select
    md5('product|' || product_id::text || '|' || updated_at::text) as product_key,
    product_id,
    product_name,
    category,
    subcategory,
    brand,
    price,
    cost,
    is_active,
    updated_at,
    updated_at as effective_date,
    null::timestamp as expiry_date,
    true as is_current
from "staging"."stg_products"
