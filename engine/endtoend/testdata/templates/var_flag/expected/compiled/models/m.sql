select 90 as days, 'from the command line' as extra
