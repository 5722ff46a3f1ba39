{{/* a template comment renders nothing */}}
{{- "" -}}
select 1 as id {{- " " -}} -- trimmed
