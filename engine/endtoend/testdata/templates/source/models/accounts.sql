select a.id, c.email
from {{ source "crm" "accounts" }} as a
join {{ source "crm" "contacts" }} as c on c.account_id = a.id
