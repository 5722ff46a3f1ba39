select *
from (select current_date as order_date, 'open' as status) as o
where {{ include "on_day" (dict "alias" "o" "day" "current_date" "opne_only" true) }}
