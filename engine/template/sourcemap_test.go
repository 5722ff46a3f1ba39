package template

import (
	"strings"
	"testing"

	"strata/engine/diag"
)

// TestSourceMapTrace pins where a byte of rendered SQL is placed in the
// user's files: copied text at its own character, an action's output at the
// action, a macro's text at the include and then inside the macro.
func TestSourceMapTrace(t *testing.T) {
	block := diag.Origin{Line: 4, Col: 5, Indent: 4}
	tests := []struct {
		name, path, text string
		at               diag.Origin
		needle           string // the first occurrence in the output is traced
		plus             int    // bytes after the needle's start
		want             string // the trace, positions joined by " > "
	}{
		{name: "first line", text: "select nosuch from t", needle: "nosuch", want: "models/x.sql:1:8"},
		{name: "after a ref", text: "select 1\nfrom {{ ref \"orders\" }} as o\nwhere o.nosuch = 1", needle: "nosuch", want: "models/x.sql:3:9"},
		{name: "the ref's output", text: "select 1\nfrom {{ ref \"orders\" }} as o", needle: `"orders"`, want: "models/x.sql:2:6"},
		{name: "non-ASCII before", text: "-- café ünï\nselect 'é', nosuch", needle: "nosuch", want: "models/x.sql:2:13"},
		{name: "CRLF", text: "select 1\r\nfrom t\r\nwhere nosuch\r\n", needle: "nosuch", want: "models/x.sql:3:7"},
		{name: "trim markers", text: "select a\n{{- if is_incremental }}\n  where nosuch > 1\n{{- end }}", needle: "nosuch", want: "models/x.sql:3:9"},
		{name: "in a range", text: "select\n{{ range $i, $c := list \"a\" \"b\" }}{{ if $i }}, {{ end }}x_{{ $c }}{{ end }} from t", needle: "x_b", want: "models/x.sql:2:57"},
		{name: "a var's output", text: "select {{ var \"start\" }}::date", needle: "2024", plus: 3, want: "models/x.sql:1:8"},
		{name: "in a macro", text: "select\n  {{ include \"cents\" \"amount\" }} as c", needle: "* 100", want: "models/x.sql:2:3 > macros/m.sql:2:35"},
		{name: "a macro's nested ref", text: "{{ include \"from_orders\" }}", needle: "from", want: "models/x.sql:1:1 > macros/m.sql:3:36"},
		{name: "a piped include", text: "select {{ include \"cents\" \"x\" | upper }}", needle: "100", want: "models/x.sql:1:8"},
		{name: "own define", text: "{{ define \"w\" }}where nosuch{{ end }}select 1\n{{ template \"w\" }}", needle: "nosuch", want: "models/x.sql:1:23"},
		{name: "own define through include", text: "{{ define \"w\" }}where nosuch{{ end }}select 1\n{{ include \"w\" }}", needle: "nosuch", want: "models/x.sql:2:1 > models/x.sql:1:23"},
		{name: "past the end", text: "select 1 from", needle: "from", plus: 50, want: "models/x.sql:1:13"},
		{name: "a hook in a block scalar", path: "project.yaml", at: block, text: "grant usage\n  on schema {{ ref \"a\" }} to nosuch", needle: "nosuch", want: "project.yaml:5:34"},
		{name: "a folded hook", path: "project.yaml", at: diag.Origin{Line: 3, Col: 5, Fixed: true}, text: "select\nnosuch", needle: "nosuch", want: "project.yaml:3:5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "models/x.sql"
			}
			tp, diags := testSet(t).ParseAt(path, tc.at, tc.text)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			out, m, _, err := tp.RenderMapped(testEnv(), nil)
			if err != nil {
				t.Fatal(err)
			}
			plain, _, _ := tp.Render(testEnv(), nil)
			if out != plain || m.Len() != len(out) {
				t.Fatalf("mapped render %q (map of %d bytes) differs from the render %q", out, m.Len(), plain)
			}
			i := strings.Index(out, tc.needle)
			if i < 0 {
				t.Fatalf("%q not in the output %q", tc.needle, out)
			}
			var got []string
			for _, p := range m.Trace(i + tc.plus) {
				got = append(got, p.String())
			}
			if g := strings.Join(got, " > "); g != tc.want {
				t.Errorf("Trace = %s, want %s (output %q)", g, tc.want, out)
			}
		})
	}
}

// TestSourceMapEmpty: an empty render has nothing to place.
func TestSourceMapEmpty(t *testing.T) {
	tp, _ := testSet(t).Parse("models/x.sql", "")
	_, m, _, err := tp.RenderMapped(testEnv(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Trace(0); got != nil {
		t.Errorf("Trace of an empty render = %v, want nil", got)
	}
	var none *SourceMap
	if none.Trace(3) != nil || none.Len() != 0 {
		t.Error("a nil map must place nothing")
	}
}
