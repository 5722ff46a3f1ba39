{{ define "test_at_least" -}}
select * from {{ .model }} where {{ ident .column_name }} < {{ .floor }}
{{- end }}
