select {{ var "min_amount" 1 2 }} as a
