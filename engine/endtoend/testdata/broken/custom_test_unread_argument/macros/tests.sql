{{ define "test_positive" }}select * from {{ .relation }} where {{ ident .column }} < {{ .min_value }}{{ end }}
