select a.id, c.email
from "crm_raw"."accounts" as a
join "crm_raw"."contacts" as c on c.account_id = a.id
