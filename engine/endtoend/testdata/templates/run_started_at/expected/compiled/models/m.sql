select '<run_started_at>'::timestamptz as loaded_at
