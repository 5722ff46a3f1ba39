{{ define "as_table" }}{{ config "materialized" "table" }}{{ end }}
{{ define "from_var" }}{{ ref (var "model") }}{{ end }}
{{ define "two_refs" }}{{ ref "a" "b" }}{{ end }}
{{ define "half_source" }}{{ source "crm" }}{{ end }}
