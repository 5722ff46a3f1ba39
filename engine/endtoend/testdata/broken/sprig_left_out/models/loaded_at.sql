select 1 as id,
    '{{ now | date "2006-01-02" }}'::date as loaded_on
