{{/* The ref names a model that is not there: one error, at the ref. */}}
{{ define "customers" }}{{ ref "dim_customer" }}{{ end }}
{{ define "missing_source" }}{{ source "crm" "acounts" }}{{ end }}
