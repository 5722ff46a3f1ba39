{{/* dates */}}
{{ define "since" }}d >= {{ var "start_date" | literal }}{{ end }}
