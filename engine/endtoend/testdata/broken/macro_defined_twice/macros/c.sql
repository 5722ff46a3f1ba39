{{ define "n" }}1{{ end }}
{{/* the same again */}}
{{ define "n" }}2{{ end }}
