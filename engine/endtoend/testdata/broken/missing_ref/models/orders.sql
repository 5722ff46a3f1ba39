select *
from {{ ref "stg_ordrs" }}
