select {{ include "euros" "amount_cents" }} as amount
from (select 150 as amount_cents) as t
