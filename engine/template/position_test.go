package template

import (
	"strings"
	"testing"

	"strata/engine/diag"
)

// TestErrorPositions pins where template errors point: parse errors get the
// column of their action, columns count characters (not bytes, not CR), and
// a text placed by an Origin maps into its file.
func TestErrorPositions(t *testing.T) {
	block := diag.Origin{Line: 4, Col: 5, Indent: 4} // a YAML "|" hook whose key is on line 3
	tests := []struct {
		name, path, text string
		at               diag.Origin
		want             string // the first diagnostic, up to the message's first " ("
	}{
		{name: "missing value for if", text: "select {{ if }}", want: `models/x.sql:1:8: missing value for if`},
		{name: "the second action", text: `select {{ ref "a" }}, {{ if }}`, want: `models/x.sql:1:23: missing value for if`},
		{name: "unknown function", text: "select 1\nfrom {{ nope 1 }}", want: `models/x.sql:2:6: function "nope" not defined`},
		{name: "unknown function after a macro name holding it", text: `{{ define "uses_now" }}{{ now }}{{ end }}`, want: `models/x.sql:1:24: function "now" not defined`},
		{name: "unknown function after a string holding it", text: `select {{ literal "now" }}, {{ now }}`, want: `models/x.sql:1:29: function "now" not defined`},
		{name: "unexpected end", text: "select 1\n{{ end }}", want: `models/x.sql:2:1: unexpected {{end}}`},
		{name: "unclosed action on an earlier line", text: "select {{ ref \"a\" }} {{ \"x\" \n", want: `models/x.sql:1:22: unclosed action`},
		{name: "if without end", text: "select 1 as a\n{{ if true }}\n, 2 as b\n", want: `models/x.sql:2:1: this {{ if }} has no {{ end }}`},
		{name: "closed blocks before the open one", text: "select 1\n{{- if 1 }}{{ end }}\n{{ range list 1 }}, 2{{ end }}\n{{ if 0 }} x {{ else if 1 }}\n", want: `models/x.sql:4:1: this {{ if }} has no {{ end }}`},
		{name: "the innermost of two open blocks", text: "select 1 {{ if 1 }}{{ if 2 }}{{ end }}\n{{ else if 3 }}\n{{ if 4 }}\n", want: `models/x.sql:3:1: this {{ if }} has no {{ end }}`},
		{name: "range in an else", text: "select é {{ if 1 }}{{ else }}{{ range list 1 }}, 2\n", want: `models/x.sql:1:30: this {{ range }} has no {{ end }}`},
		{name: "with", text: "select 1 {{ with 1 }}\n{{ if 1 }}{{ end }}\n", want: `models/x.sql:1:10: this {{ with }} has no {{ end }}`},
		{name: "define without end", text: "{{ define \"m\" }}x{{ end }}select 1 {{ define \"q\" }} {{ if 1 }} {{ end }}\n", want: `models/x.sql:1:36: this {{ define }} has no {{ end }}`},
		{name: "define without end before another define", text: "{{ define \"m\" }}\nx\n\n{{ define \"q\" }}y{{ end }}\nselect 1\n", want: `models/x.sql:1:1: this {{ define }} has no {{ end }}`},
		{name: "if left open in a define before another define", text: "{{ define \"m\" }}é {{ if 1 }}\nx\n{{- define \"q\" }}y{{ end }}\n", want: `models/x.sql:1:19: this {{ if }} has no {{ end }}`},
		{name: "parse error after non-ASCII", text: "select 'é', {{ if }}", want: `models/x.sql:1:13: missing value for if`},
		{name: "runtime error counts characters", text: "-- café ünï\nselect é, {{ var \"nope\" }}", want: `models/x.sql:2:14: var "nope" is not defined`},
		{name: "runtime error with CRLF", text: "select 1\r\nfrom {{ var \"nope\" }}\r\n", want: `models/x.sql:2:9: var "nope" is not defined`},
		{name: "block scalar hook", path: "project.yaml", at: block, text: "select 1;\nselect 2;\nselect {{ var \"missing\" }};\n", want: `project.yaml:6:15: var "missing" is not defined`},
		{name: "block scalar hook, first line", path: "project.yaml", at: block, text: "select {{ if }}\n", want: `project.yaml:4:12: missing value for if`},
		{name: "quoted hook", path: "project.yaml", at: diag.Origin{Line: 7, Col: 6}, text: "select {{ if }}", want: `project.yaml:7:13: missing value for if`},
		{name: "quoted hook, runtime", path: "project.yaml", at: diag.Origin{Line: 7, Col: 6}, text: `select {{ env_var "NOPE_X" }}`, want: `project.yaml:7:16: environment variable NOPE_X is not set`},
		{name: "reflowed text", path: "project.yaml", at: diag.Origin{Line: 3, Col: 5, Fixed: true}, text: "select\n{{ var \"nope\" }}", want: `project.yaml:3:5: var "nope" is not defined`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "models/x.sql"
			}
			env := testEnv()
			env.Caller = path
			tp, diags := testSet(t).ParseAt(path, tc.at, tc.text)
			got := diags.Error()
			if !diags.HasErrors() {
				_, _, err := tp.Render(env, nil)
				if err == nil {
					t.Fatal("no error")
				}
				got = err.Error()
			}
			if strings.Contains(got, "template:") || strings.Contains(got, "executing") || strings.Contains(got, "called from") {
				t.Errorf("text/template's wording leaks: %s", got)
			}
			if i := strings.Index(got, " ("); i >= 0 {
				got = got[:i]
			}
			if got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestRefPositionCountsCharacters: a ref's position, used by the manifest's
// errors, is in characters too.
func TestRefPositionCountsCharacters(t *testing.T) {
	tp, diags := testSet(t).Parse("models/x.sql", "-- café ünï\nselect é, {{ ref \"nope\" }}")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(tp.Refs) != 1 || tp.Refs[0].Pos.String() != "models/x.sql:2:14" {
		t.Fatalf("refs %+v, want one at models/x.sql:2:14", tp.Refs)
	}
}

// A position with no line inside a text placed in a file is the text's
// start, not line 0 of the file.
func TestPlaceWithoutLine(t *testing.T) {
	o := diag.Origin{Line: 7, Col: 5, Indent: 4}
	if got := o.Place("project.yaml", "select 1", 0, -1); got.Line != 7 || got.Col != 5 {
		t.Errorf("place without a line = %d:%d, want 7:5", got.Line, got.Col)
	}
	if got := (diag.Origin{}).Place("m.sql", "select 1", 0, -1); got.Line != 0 {
		t.Errorf("without an origin, a position without a line stays without one: %d", got.Line)
	}
}
