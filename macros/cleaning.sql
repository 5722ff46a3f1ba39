{{/* Staging helpers: how raw text is normalised. Each takes a column expression. */}}

{{ define "clean_text" }}nullif(trim({{ . }}), ''){{ end }}

{{/* Match a messy value case-insensitively to its canonical spelling; anything else becomes NULL.
     Called as: include "canonical" (list "segment" "Consumer" "Corporate" "Home Office") */}}
{{ define "canonical" -}}
case lower(trim({{ index . 0 }}))
{{- range $i, $v := . }}{{ if $i }} when {{ lower $v | literal }} then {{ literal $v }}{{ end }}{{ end }} end
{{- end }}

{{/* The valid-email rule of the staging layer. */}}
{{ define "is_valid_email" }}({{ . }} ~ '^[^@ ]+@[^@ ]+\.[^@ ]+$'){{ end }}
