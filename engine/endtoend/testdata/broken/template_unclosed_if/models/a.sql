select 1
{{ if is_incremental }}
where true
