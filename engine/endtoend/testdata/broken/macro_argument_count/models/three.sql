select
    {{ include "amount_or" "amount" "0" }} as right,
    {{ include "amount_or" "amount" "0" "1" }} as three
from (select 1.5 as amount) as o
