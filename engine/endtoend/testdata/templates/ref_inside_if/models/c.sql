select id from {{ ref "a" }}
{{ if false }}union all select id from {{ ref "b" }}{{ end }}
