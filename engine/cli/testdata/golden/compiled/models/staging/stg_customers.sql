-- One row per customer: duplicates removed, text trimmed, segment and email normalised,
-- rows without a usable email dropped.
with deduped as (
    select distinct on (customer_id) *
    from "raw"."raw_customers"
    order by customer_id, updated_at desc
),
cleaned as (
    select
        customer_id,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        lower(trim(email)) as email,
        nullif(trim(phone), '') as phone,
        nullif(trim(address), '') as address,
        nullif(trim(city), '') as city,
        upper(trim(state)) as state,
        trim(postal_code::text) as postal_code,
        nullif(trim(country), '') as country,
        case lower(trim(segment)) when 'consumer' then 'Consumer' when 'corporate' then 'Corporate' when 'home office' then 'Home Office' end as segment,
        signup_date,
        updated_at
    from deduped
)
select *
from cleaned
where email is not null
  and (email ~ '^[^@ ]+@[^@ ]+\.[^@ ]+$')
