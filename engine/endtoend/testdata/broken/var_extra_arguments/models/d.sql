select {{ var "min_amount" 1 }} as d, {{ env_var "STRATA_CORPUS_NEVER_SET_2" "x" | literal }} as e
