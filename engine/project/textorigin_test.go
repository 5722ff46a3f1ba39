package project

import (
	"reflect"
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
		{"folded block", "h: >\n  select\n  {{ x }}\n", diag.Origin{Line: 2, Col: 3, Pieces: []diag.Piece{{Off: 0, Line: 2, Col: 3}, {Off: 7, Line: 3, Col: 3}}}},
		{"folded block, strip, blank and more indented lines", "h:\n  - >-\n    select 1,\n\n      2 as {{ x }}\n    from t\n", diag.Origin{Line: 3, Col: 5, Pieces: []diag.Piece{{Off: 0, Line: 3, Col: 5}, {Off: 11, Line: 5, Col: 5}, {Off: 26, Line: 6, Col: 5}}}},
		{"plain over two lines", "h: select\n  {{ x }}\n", diag.Origin{Line: 1, Col: 4, Pieces: []diag.Piece{{Off: 0, Line: 1, Col: 4}, {Off: 7, Line: 2, Col: 3}}}},
		{"folded block with an indentation indicator cannot be mapped", "h: >2\n     select {{ x }}\n  x\n", diag.Origin{Line: 1, Col: 4, Fixed: true}},
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
			if got := textOrigin(fileLines([]byte(tc.yaml)), n); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
