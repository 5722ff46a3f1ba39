{{/* dbt projects override ref with a macro */}}
{{ define "ref" }}{{ . }}{{ end }}
