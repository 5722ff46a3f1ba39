{{ define "latest" }}(select max(id) from {{ .rel }}){{ end }}
