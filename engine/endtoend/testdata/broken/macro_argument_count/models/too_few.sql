select {{ include "cents" }} as cents
from (select 1.5 as amount) as o
