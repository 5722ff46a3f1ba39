{{/* The yyyymmdd integer key of dim_time for a date expression. */}}
{{ define "date_key" }}(extract(year from {{ . }}) * 10000 + extract(month from {{ . }}) * 100 + extract(day from {{ . }}))::integer{{ end }}

{{/* The surrogate key of the scd2 version of a dimension valid at a point in time, as a scalar subquery:
     the version whose effective_date is the latest one not after .at; a fact dated before a key's first
     version gets that first version (a dimension's first build dates its versions by their updated_at,
     which can be later than facts loaded with them). The ref stays in the caller, so the dependency is static:
       {{ include "version_at" (dict "dim" (ref "dim_customers") "key" "customer_key" "id" "customer_id" "value" "o.customer_id" "at" "o.order_date") }} */}}
{{ define "version_at" -}}
(select d.{{ ident .key }} from {{ .dim }} as d
  where d.{{ ident .id }} = {{ .value }}
  order by (d.effective_date <= {{ .at }}) desc,
           case when d.effective_date <= {{ .at }} then d.effective_date end desc,
           d.effective_date
  limit 1)
{{- end }}
