{{/* The yyyymmdd integer key of dim_time for a date expression. */}}
{{ define "date_key" }}(extract(year from {{ . }}) * 10000 + extract(month from {{ . }}) * 100 + extract(day from {{ . }}))::integer{{ end }}
