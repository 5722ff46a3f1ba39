select 'it's' as word
