
{{ define "m" }}2{{ end }}
