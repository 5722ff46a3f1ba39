select {{ include "cents" "amount" "tax" }} as cents
from (select 1.5 as amount, 0.2 as tax) as o
