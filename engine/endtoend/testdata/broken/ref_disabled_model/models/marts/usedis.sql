-- café
select é.id
from {{ ref "dis" }} as é
