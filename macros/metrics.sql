{{/* Orders that count as sales: not cancelled and not returned. Takes the table alias. */}}
{{ define "is_sale" }}({{ . }}.status not in ('cancelled', 'returned')){{ end }}
