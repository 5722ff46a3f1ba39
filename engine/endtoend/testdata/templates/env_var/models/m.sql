select {{ env_var "STRATA_E2E_REGION" | literal }} as region,
  {{ env_var "STRATA_E2E_EMPTY" | literal }} as empty
