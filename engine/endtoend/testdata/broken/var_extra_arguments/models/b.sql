select {{ var "not_set" 0 5 }} as b
