{{ define "cents" }}round({{ . }} * 100){{ end }}
