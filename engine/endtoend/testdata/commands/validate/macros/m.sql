{{ define "one" }}1{{ end }}
