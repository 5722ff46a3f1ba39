{{ config "materialized" "incremental" "unique_key" "semicolon" }}
select semicolon from {{ ref "lexemes" }}
{{ if is_incremental }}where semicolon <> ')'{{ end }};
