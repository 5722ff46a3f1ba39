-- Customer dimension with history (SCD type 2): a new version whenever the source's updated_at moves,
-- the old one closed; customers that vanish from the export are closed too (see warehouse.yml).
-- The customer master: contact details (phone, street address) are versioned like the other attributes.
select
    customer_id,
    first_name,
    last_name,
    email,
    phone,
    address,
    city,
    state,
    postal_code,
    country,
    segment,
    signup_date,
    updated_at
from "staging"."stg_customers"
