select 'eu-north' as region,
  '' as empty
