select 'local' as mode,
  'from the environment' as shadowed
