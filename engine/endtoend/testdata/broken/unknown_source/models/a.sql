select * from {{ source "crm" "acounts" }}
