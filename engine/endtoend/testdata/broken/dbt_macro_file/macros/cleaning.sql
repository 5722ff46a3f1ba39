{{/* a strata macro with Jinja left in it */}}
{{/* dbt spelled it {% macro cents(col) %} and {% if x %}; these lines are fine */}}
{{ define "clean" }}{# trim it #}nullif(trim({{ . }}), ''){% if false %}{% endif %}{{ end }}
