select id, {{ include "cents_to_dollars" "amount_cents" }} as amount, region from {{ ref "base" }}
