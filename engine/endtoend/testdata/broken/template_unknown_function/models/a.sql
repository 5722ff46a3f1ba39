select 1
from {{ reff "b" }}
