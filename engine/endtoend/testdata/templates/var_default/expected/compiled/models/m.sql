select 7 as a,
  42 as b,
  'fallback' as c
