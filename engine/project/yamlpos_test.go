package project

import (
	"strings"
	"testing"

	"strata/engine/diag"
)

// TestYAMLSyntaxErrorPosition: a YAML syntax error is reported at the line
// of the token the parser stumbled on, not at the start of the block that
// holds it (yaml.v3's line); with its column when that token starts the
// line. A line indented with a tab says so, at the tab, whatever yaml.v3
// calls it. CRLF line ends change nothing.
func TestYAMLSyntaxErrorPosition(t *testing.T) {
	const tabMsg = "invalid YAML: this line is indented with a tab, which YAML forbids: indent with spaces"
	const indent = ": this line is not indented like the lines of its level above it (the keys of one mapping, and the items of one list, start in the same column)"
	long := "models:\n  - name: a\n    columns:\n" + strings.Repeat("      - name: c\n        description: d\n", 65) +
		"     - name: bad\n" // line 134, one space short
	cases := []struct{ name, text, want string }{
		{"mis-indented list item after many", long, "s.yml:134:6: invalid YAML: did not find expected key" + indent},
		{"list item under a mapping", "models:\n  - name: a\n    columns:\n      - name: id\n        tests:\n          - not_null\n        - unique\n", "s.yml:7:9: invalid YAML: did not find expected key" + indent},
		{"key out of its list", "models:\n  - name: a\n    columns:\n      - name: id\n      tests: [not_null]\n", "s.yml:5:7: invalid YAML: did not find expected '-' indicator" + indent},
		{"key one space short", "models:\n  - name: a\n    columns:\n      - name: id\n  - name: b\n   description: x\n", "s.yml:6:4: invalid YAML: did not find expected '-' indicator" + indent},
		{"tab", "models:\n  - name: a\n\tdescription: tab\n", "s.yml:3:1: " + tabMsg},
		{"tab before a key of the top mapping", "name: shop\nvars:\n\tx: 1\n", "s.yml:3:1: " + tabMsg},
		{"tab before a list item", "models:\n\t- name: a\n", "s.yml:2:1: " + tabMsg},
		{"tab after spaces", "models:\n  - name: a\n  \t  description: x\n", "s.yml:3:3: " + tabMsg},
		{"tab in a block scalar's indentation", "models:\n  - name: a\n    description: |\n      line\n    \tx\n", "s.yml:5:5: " + tabMsg},
		{"a line of only a tab", "models:\n  - name: a\n    columns:\n      - name: x\n\t\n", "s.yml:5:1: " + tabMsg},
		{"unclosed quote", "a: 1\nb: 'unclosed\nc: 2\n", "s.yml:2: invalid YAML: found unexpected end of stream"},
		{"unclosed flow list", "name: shop\nvars:\n  a: [1, 2\n", "s.yml:3: invalid YAML: did not find expected ',' or ']'"},
		{"mapping in a value", "a: 1\nb: c: d\n", `s.yml:2: invalid YAML: mapping values are not allowed in this context: the value of b holds ": ", which starts a mapping unless the value is quoted (b: 'c: d')`},
		// What a newcomer writes: a description with a colon, a word after
		// a quoted one, a misindented item of a list quoted or not.
		{"colon in a description", "models:\n  - name: a\n    description: Revenue, 'web' or 'app': the channels\n",
			`s.yml:3: invalid YAML: mapping values are not allowed in this context: the value of description holds ": ", which starts a mapping unless the value is quoted (description: "Revenue, 'web' or 'app': the channels")`},
		{"text after a quoted value", "models:\n  - name: a\n    description: \"Net\" revenue\n",
			`s.yml:3:5: invalid YAML: did not find expected key: the value of description goes on after its closing " ("revenue"): quote all of it (description: '"Net" revenue')`},
		{"text after a list", "models:\n  - name: a\n    description: [Revenue] per channel # c\n",
			`s.yml:3:5: invalid YAML: did not find expected key: the value of description goes on after its closing ] ("per channel"): quote all of it (description: '[Revenue] per channel')`},
		{"quoted value one space short", "models:\n  - name: a\n    columns:\n      - name: id\n     - name: \"b\" # c\n", "s.yml:5:6: invalid YAML: did not find expected key" + indent},
		{"list item out of its list, read as a text going on", "models:\n  - name: a\n    columns:\n      - name: c\n        tests:\n      - unique\n          - not_null\n          - accepted_values: {values: [a]}\n",
			"s.yml:8: invalid YAML: mapping values are not allowed in this context: this line goes on a value begun above it; check the indentation of the lines above"},
		{"in a second document", "a: 1\n---\nb: [\n", "s.yml:3: invalid YAML: did not find expected node content"},
	}
	for _, c := range cases {
		for _, eol := range []string{"\n", "\r\n"} {
			var diags diag.List
			parseYAML("s.yml", []byte(strings.ReplaceAll(c.text, "\n", eol)), &diags)
			if len(diags) != 1 || diags[0].Error() != c.want {
				t.Errorf("%s (%q line ends): got %v\nwant %s", c.name, eol, diags, c.want)
			}
		}
	}
}
