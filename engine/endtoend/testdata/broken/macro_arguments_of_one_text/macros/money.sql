{{/* two arguments: the amount's column and what a missing one is */}}
{{ define "amount_or" }}coalesce({{ index . 0 }}, {{ index . 1 }}){{ end }}
