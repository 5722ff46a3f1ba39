select {{ var "days" }} as days, {{ var "extra" | literal }} as extra
