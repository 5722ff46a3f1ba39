select '2024-01-01'::date as start_date,
  1.5 as ratio,
  '' as nothing,
  '{"high":9,"low":1}'::jsonb as limits,
  'it''s' as label,
  region -- of ["eu","us"]
from (values ('eu'), ('asia')) as r (region)
where region in ('eu', 'us')
