{{ define "cents" }}round({{ . }} * 100)::bigint{{ end }}
{{ define "cents_pair" }}{{ include "cents" .a }}, {{ include "cents" .b }}{{ end }}
