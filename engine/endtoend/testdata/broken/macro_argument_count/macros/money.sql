{{/* A column's amount in cents. */}}
{{ define "cents" }}({{ . }} * 100)::bigint{{ end }}

{{/* The first of two amounts that is not null. */}}
{{ define "amount_or" }}coalesce({{ index . 0 }}, {{ index . 1 }}){{ end }}

{{ define "on_day" }}{{ .alias }}.order_date = {{ .day }}{{ if index . "open_only" }} and {{ .alias }}.status = 'open'{{ end }}{{ end }}
