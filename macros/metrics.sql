{{/* Orders that count as sales: not cancelled and not returned. Takes the table alias. */}}
{{ define "is_sale" }}({{ . }}.status not in ('cancelled', 'returned')){{ end }}

{{/* Orders that count at all: staging drops bad lines (unknown product, quantity or price not positive),
     and when it drops every line of an order, the header is left with nothing sold. fact_orders keeps it
     (item_count = 0, so the warehouse still matches staging row for row); the analytics leave it out,
     or it would count as a $0 sale. Takes the table alias of fact_orders. */}}
{{ define "has_lines" }}({{ . }}.item_count > 0){{ end }}
