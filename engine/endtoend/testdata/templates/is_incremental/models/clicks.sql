{{ config "materialized" "incremental" "unique_key" "click_id" }}
select 1 as click_id, now() as clicked_at
{{ if is_incremental }}
where clicked_at > (select max(clicked_at) from {{ this }})
{{ else }}
-- first build: every row
{{ end }}
