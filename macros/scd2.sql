{{/* Joining facts to scd2 dimensions (docs/scd2.md). Versions are half-open intervals
     [valid_from, valid_to); the current version has valid_to NULL. The ref stays
     in the model, so the dependency is found statically; these macros take the
     alias the dimension has in the model's FROM clause:

       from {{ ref "fact_orders" }} as o
       left join {{ ref "dim_customers" }} as c
         on c.customer_id = o.customer_id
        and {{ include "scd2_valid_at" (dict "alias" "c" "at" "o.ordered_at") }}

     Arguments (a dict): alias (required), at (required for scd2_valid_at: an SQL
     expression, e.g. a fact's date or timestamp column), and, when the model
     renames them with scd2_columns, valid_from, valid_to, is_current. Set
     "exclude_deleted" true to leave out the deletion markers of
     hard_deletes: new_record (the key then matches nothing after its deletion).
     A fact dated before a key's first version matches no version: for check
     strategy the first version starts at the first build. */}}

{{ define "scd2_valid_at" -}}
{{- $a := ident .alias -}}
{{- $from := ident (default "valid_from" (index . "valid_from")) -}}
{{- $to := ident (default "valid_to" (index . "valid_to")) -}}
({{ $a }}.{{ $from }} <= {{ .at }} and ({{ $a }}.{{ $to }} is null or {{ .at }} < {{ $a }}.{{ $to }})
{{- if index . "exclude_deleted" }} and not {{ $a }}.is_deleted{{ end }})
{{- end }}

{{/* The current version: include "scd2_current" (dict "alias" "c"). */}}
{{ define "scd2_current" -}}
{{- $a := ident .alias -}}
({{ $a }}.{{ ident (default "is_current" (index . "is_current")) }}
{{- if index . "exclude_deleted" }} and not {{ $a }}.is_deleted{{ end }})
{{- end }}
