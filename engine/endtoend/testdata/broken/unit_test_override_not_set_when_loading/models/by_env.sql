select 1 as id, {{ literal (env_var "STRATA_E2E_UNIT_REGION") }} as region
