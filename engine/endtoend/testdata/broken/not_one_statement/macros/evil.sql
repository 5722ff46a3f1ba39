{{ define "cutoff" }}1); truncate public.orders; select (1{{ end }}
{{ define "test_positive" }}select * from {{ .relation }} where {{ ident .column }} < 0; drop table {{ .relation }}{{ end }}
