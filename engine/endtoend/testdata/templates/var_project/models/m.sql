select {{ var "start_date" | literal }}::date as start_date,
  {{ var "ratio" }} as ratio,
  {{ var "nothing" | literal }} as nothing,
  '{{ var "limits" }}'::jsonb as limits,
  {{ var "label" | literal }} as label,
  region -- of {{ var "regions" }}{{ var "nothing" }}
from (values ('eu'), ('asia')) as r (region)
where region in {{ var "regions" | literal }}
