{{ define "m" }}
{{ if }}
{{ end }}
