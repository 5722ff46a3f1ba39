{{ config "materialized" "incremental" "post_hook" "analyze {{ this }}" }}
select 1 as a{{ if is_incremental }} from {{ this }}{{ end }}
