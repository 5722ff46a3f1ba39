select {{ include "cents" "amount" }} as amount_cents,
       {{ include "utc_now" }} as loaded_at,
       {{ include "clean" "city" }} as city
from (select 1 as amount, 'x' as city) as o
