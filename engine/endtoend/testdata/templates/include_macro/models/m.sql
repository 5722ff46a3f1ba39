select {{ include "cents" "price" }} as price_cents,
  {{ include "cents_pair" (dict "a" "cost" "b" "tax") }},
  {{ include "cents" "x" | upper }} as shouted
from (select 1.5 as price, 1 as cost, 0.2 as tax, 2 as x) as t
