{{ define "test_is_even" }}select * from {{ .relation }} where {{ .column }} % {{ .divisor }} <> 0{{ end }}
