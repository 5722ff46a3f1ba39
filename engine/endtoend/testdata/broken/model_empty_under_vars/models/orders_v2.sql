{{ if not (var "legacy") }}
select * from {{ ref "orders" }}
{{ end }}
