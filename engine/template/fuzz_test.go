package template

import (
	"strings"
	"testing"

	"strata/engine/pgname"
)

// FuzzRender parses and renders arbitrary template text against a macro set:
// errors are fine, panics are not, and an error always names the file.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		`select {{ ref "a" }}`,
		`{{ if is_incremental }}{{ ref "b" }}{{ end }}`,
		`{{ include "m" "x" | upper }}`,
		`{{ config "materialized" "table" "tags" (list "a" "b") }}`,
		`{{ var "x" "d" }} {{ env_var "NOPE" "d" }} {{ ident "a\"b" }} {{ literal "it's\\" }}`,
		`{{ define "own" }}x{{ end }}{{ template "own" }}`,
		`{{ range $i, $x := list 1 2 }}{{ $i }}{{ end }}`,
		`{{ ref (printf "%s" "a") }}`,
		`{{ include "loop" }}`,
		`{{`, `}}`, `{{ end }}`, `{{ template "nope" }}`,
		`{{ if 1 }}{{ else if 2 }}{{ range 3 }}`, `{{ define "d" }}{{ with 1 }}`, `{{ block "b" 1 }}{{ if 1 }}`,
		// limits.go: what would grow without end fails instead
		`{{ repeat 1000000000000 "ab" }}`, `{{ until 1000000000000 }}`, `{{ seq 9223372036854775807 }}`,
		`{{ untilStep 9223372036854775806 9223372036854775807 2 }}`, `{{ indent 9223372036854775807 "a" }}`,
		`{{ $s := "x" }}{{ range until 100 }}{{ $s = cat $s $s }}{{ end }}`,
		`{{ $d := dict }}{{ $_ := set $d "a" $d }}{{ $d }}`, `{{ chunk 0 (list 1) }}`,
	} {
		f.Add(s)
	}
	set, diags := ParseMacros([]MacroFile{{Path: "macros/m.sql", Text: `{{ define "m" }}m({{ . }}){{ end }}{{ define "loop" }}{{ include "loop" }}{{ end }}`}})
	if diags.HasErrors() {
		f.Fatal(diags)
	}
	env := Env{
		Ref:       func(name string) (string, error) { return pgname.Ident(name), nil },
		Source:    func(s, t string) (string, error) { return pgname.Ident(s) + "." + pgname.Ident(t), nil },
		Vars:      map[string]any{"x": 1},
		LookupEnv: func(string) (string, bool) { return "", false },
		Target:    map[string]any{"name": "dev"},
		Caller:    "models/fuzz.sql",
	}
	f.Fuzz(func(t *testing.T, text string) {
		tp, d := set.Parse("models/fuzz.sql", text)
		if tp == nil {
			if !d.HasErrors() {
				t.Fatal("no template and no error")
			}
			return
		}
		_, _, err := tp.Render(env, nil)
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}

// FuzzMacroFile parses arbitrary macro file text, whose Jinja outside
// {{ define }} blocks is told from prose by its place (in a dbt macro or
// not, in an SQL comment or not): errors are fine, panics are not, every
// error is placed in the file at one of its lines, and the SQL comments
// found are ordered, apart, within the text and start as comments do.
func FuzzMacroFile(f *testing.F) {
	for _, s := range []string{
		"{% macro cents(col) %}({{ . }}){% endmacro %}\n",
		"-- use {% raw %} in dbt\n{{ define \"m\" }}x{{ end }}",
		"/* a /* b */ {% macro x() %} */ {% if %}",
		"/* never closed {% macro x() %}",
		"{% test t(model) %}{% if x %}{% endif %}{% endtest %}{% endmacro %}{% endmacro %}",
		"{{ define \"m\" }}select '/*'{{ end }}{% macro x() %}*/",
		"{{ define \"m\" }}-- {% if x %}{# c #}\n{{ end }}",
		"{{/* {% macro x() %} */}}--\n/*", "{{ define \"m\" }}{{ end", "{%- macro m -%}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		_, diags := ParseMacros([]MacroFile{{Path: "macros/m.sql", Text: text}})
		lines := 1 + strings.Count(text, "\n")
		for _, d := range diags {
			if d.Pos.File != "macros/m.sql" || d.Pos.Line > lines {
				t.Fatalf("error placed at %s, outside the file of %d lines: %v", d.Pos, lines, d)
			}
		}
		end := 0
		for _, r := range sqlComments(text) {
			if r[0] < end || r[1] <= r[0] || r[1] > len(text) || !strings.HasPrefix(text[r[0]:], "--") && !strings.HasPrefix(text[r[0]:], "/*") {
				t.Fatalf("comment %v after %d in %q", r, end, text)
			}
			end = r[1]
		}
	})
}
