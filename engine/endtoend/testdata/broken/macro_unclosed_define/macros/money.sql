{{/* money helpers */}}
{{ define "cents" }}round({{ . }} * 100)::bigint{{ end }}

{{ define "euros" }}
({{ . }} / 100.0)::numeric(14, 2)

{{ define "vat" }}({{ . }} * 0.2){{ end }}
