-- Customer dimension. One current version per customer for now; the history of changes
-- (SCD type 2 with materialized: scd2) replaces this table when scd2 models land.
select
    md5('customer|' || customer_id::text || '|' || updated_at::text) as customer_key,
    customer_id,
    first_name,
    last_name,
    email,
    city,
    state,
    postal_code,
    country,
    segment,
    signup_date,
    updated_at,
    updated_at as effective_date,
    null::timestamp as expiry_date,
    true as is_current
from "staging"."stg_customers"
