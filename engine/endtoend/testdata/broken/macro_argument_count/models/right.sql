select {{ include "cents" "amount" }} as cents
from (select 1.5 as amount, current_date as order_date, 'open' as status) as o
where {{ include "on_day" (dict "alias" "o" "day" "current_date") }}
  and {{ include "on_day" (dict "alias" "o" "day" "current_date" "open_only" true) }}
