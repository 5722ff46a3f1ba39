select {{ env_var "STRATA_E2E_NEVER_SET" "local" | literal }} as mode,
  {{ env_var "STRATA_E2E_SET_WITH_DEFAULT" "unused" | literal }} as shadowed
