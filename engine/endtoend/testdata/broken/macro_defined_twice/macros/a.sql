{{ define "m" }}1{{ end }}
