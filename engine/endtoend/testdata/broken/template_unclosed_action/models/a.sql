select 1
from {{ ref "b"
