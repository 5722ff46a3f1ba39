select {{ env_var "STRATA_CORPUS_NEVER_SET" | literal }} as x
