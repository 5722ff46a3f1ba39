-- One row per customer: duplicates removed, text trimmed, segment and email normalised,
-- rows without a usable email dropped.
with deduped as (
    select distinct on (customer_id) *
    from {{ ref "raw_customers" }}
    order by customer_id, updated_at desc
),
cleaned as (
    select
        customer_id,
        {{ include "clean_text" "first_name" }} as first_name,
        {{ include "clean_text" "last_name" }} as last_name,
        lower(trim(email)) as email,
        {{ include "clean_text" "phone" }} as phone,
        {{ include "clean_text" "address" }} as address,
        {{ include "clean_text" "city" }} as city,
        upper(trim(state)) as state,
        trim(postal_code::text) as postal_code,
        {{ include "clean_text" "country" }} as country,
        {{ include "canonical" (list "segment" "Consumer" "Corporate" "Home Office") }} as segment,
        signup_date,
        updated_at
    from deduped
)
select *
from cleaned
where email is not null
  and {{ include "is_valid_email" "email" }}
