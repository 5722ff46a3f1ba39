select 'dev' as name, 'local' as type, '' as prefix
