select {{ include "cents" "amount" }} as amount_cents, {{ include "vat" "amount" }} as vat
from (select 1.5 as amount) as t
