-- The customer master: every customer staging keeps has exactly the current version in dim_customers
-- that carries staging's attributes, contact details (phone, address) included, so a changed address
-- becomes a new current version. A row returned here is a customer whose current version is missing
-- or differs from staging.
select s.customer_id, d.customer_key
from "staging"."stg_customers" as s
left join "warehouse"."dim_customers" as d on d.customer_id = s.customer_id and d.is_current
where d.customer_id is null
   or (d.first_name, d.last_name, d.email, d.phone, d.address, d.city, d.state, d.postal_code, d.country,
       d.segment, d.signup_date, d.updated_at)
      is distinct from
      (s.first_name, s.last_name, s.email, s.phone, s.address, s.city, s.state, s.postal_code, s.country,
       s.segment, s.signup_date, s.updated_at)
