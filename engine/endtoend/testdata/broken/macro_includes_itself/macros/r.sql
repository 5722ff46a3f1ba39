{{ define "r" }}x{{ include "r" . }}{{ end }}
