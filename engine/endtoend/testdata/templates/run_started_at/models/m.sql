select {{ run_started_at | literal }}::timestamptz as loaded_at
