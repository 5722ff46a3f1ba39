{{- $cols := list "a" "b" "c" -}}
select {{ range $i, $c := $cols }}{{ if $i }}, {{ end }}{{ $i }} as {{ ident (upper $c) }}{{ end }}
-- {{ "Hello" | lower | repeat 2 }} {{ join "+" $cols }} {{ add 1 2 }}
