select 1 as id, ';--' as note
