{{ define "cents_to_dollars" }}({{ . }} / 100.0){{ end }}
{{ define "fiscal_year_start" }}date '2024-04-01'{{ end }}
{{ define "region" }}'eu'{{ end }}
{{ define "regions" }}'eu', 'us'{{ end }}
