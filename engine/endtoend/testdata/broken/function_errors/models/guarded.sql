{{- if not (var "regions") }}{{ fail "set vars.regions: the list of regions this model reports on" }}{{ end -}}
select {{ (var "regions").first }} as region
