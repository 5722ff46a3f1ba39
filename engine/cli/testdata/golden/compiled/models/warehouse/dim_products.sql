-- Product dimension with history (SCD type 2): a price change makes a new version from its updated_at;
-- products deleted from the catalogue export are closed (see warehouse.yml).
select
    product_id,
    product_name,
    category,
    subcategory,
    brand,
    price,
    cost,
    is_active,
    updated_at
from "staging"."stg_products"
