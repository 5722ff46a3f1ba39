select
    {{ include "amount_or" "amount" "0" }} as with_two,
    {{ include "amount_or" "amount" }} as with_one
from (select 1.5 as amount) as o
