package project

import (
	"testing"

	"strata/engine/diag"

	"gopkg.in/yaml.v3"
)

// TestTextOrigin: where the text of a hook or target setting starts in
// project.yaml, for each way YAML can write a string.
func TestTextOrigin(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       diag.Origin
	}{
		{"plain", "h: select {{ x }}\n", diag.Origin{Line: 1, Col: 4}},
		{"double-quoted", "h: \"select {{ x }}\"\n", diag.Origin{Line: 1, Col: 5}},
		{"single-quoted", "h: 'select {{ x }}'\n", diag.Origin{Line: 1, Col: 5}},
		{"after non-ASCII", "é: 'select {{ x }}'\n", diag.Origin{Line: 1, Col: 5}},
		{"escapes cannot be mapped", "h: \"{{ env_var \\\"X\\\" }}\"\n", diag.Origin{Line: 1, Col: 4, Fixed: true}},
		{"literal block", "h:\n  - |\n    select 1;\n\n    select {{ x }};\n", diag.Origin{Line: 3, Col: 5, Indent: 4}},
		{"literal block with CRLF", "h: |\r\n  select 1;\r\n  select {{ x }};\r\n", diag.Origin{Line: 2, Col: 3, Indent: 2}},
		{"folded block cannot be mapped", "h: >\n  select\n  {{ x }}\n", diag.Origin{Line: 1, Col: 4, Fixed: true}},
		{"plain over two lines cannot be mapped", "h: select\n  {{ x }}\n", diag.Origin{Line: 1, Col: 4, Fixed: true}},
		{"indentation indicator cannot be mapped", "h: |2\n     select {{ x }}\n", diag.Origin{Line: 1, Col: 4, Fixed: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tc.yaml), &doc); err != nil {
				t.Fatal(err)
			}
			n := doc.Content[0].Content[1]
			if n.Kind == yaml.SequenceNode {
				n = n.Content[0]
			}
			if got := textOrigin(fileLines([]byte(tc.yaml)), n); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
