package template

import "testing"

// TestMacroArgumentCount: an include that gives a macro more or fewer
// arguments than it reads is an error at the call, naming the macro, what
// it reads, what it was given and where it is defined. It rendered a Go
// list into the SQL ("([a b] * 100)") for too many, and nothing for too
// few. Optional arguments (read inside an if, index . "key") may be left
// out, and a macro whose use of . is not followed (range ., len .) is not
// checked.
func TestMacroArgumentCount(t *testing.T) {
	set, diags := ParseMacros([]MacroFile{{Path: "macros/m.sql", Text: "{{/* macros */}}\n" +
		`{{ define "cents" }}({{ . }} * 100){{ end }}` + "\n" +
		`{{ define "coalesce2" }}coalesce({{ index . 0 }}, {{ index . 1 }}){{ end }}` + "\n" +
		`{{ define "valid" }}{{ .alias }}.f <= {{ .at }}{{ if index . "deleted" }} and not {{ .alias }}.d{{ end }}{{ end }}` + "\n" +
		`{{ define "now_utc" }}now() at time zone 'utc'{{ end }}` + "\n" +
		`{{ define "maybe_third" }}{{ index . 0 }}{{ if gt (len .) 2 }}{{ index . 2 }}{{ end }}{{ end }}` + "\n" +
		`{{ define "up_to_three" }}{{ index . 0 }}{{ if var "n" }}, {{ index . 1 }}{{ end }}{{ if false }}{{ index . 2 }}{{ end }}{{ end }}` + "\n" +
		`{{ define "cols" }}{{ range $i, $c := . }}{{ if $i }}, {{ end }}{{ $c }}{{ end }}{{ end }}` + "\n" +
		`{{ define "test_positive" }}select * from {{ .relation }} where {{ .column }} < 0{{ end }}` + "\n" +
		`{{ define "outer" }}{{ include "cents" "a" "b" }}{{ end }}` + "\n"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	const docs = "; docs/templates.md#macros)"
	tests := []struct{ text, want string }{
		{`{{ include "cents" "a" "b" }}`, `models/me.sql:1:4: macro "cents" (defined at macros/m.sql:2) takes one argument, read as ., and is given 2: "a", "b" (write include "cents" <value>, one value; a macro that takes several reads them as index . 0, index . 1` + docs},
		{`{{ include "cents" }}`, `models/me.sql:1:4: macro "cents" (defined at macros/m.sql:2) takes one argument, read as ., and is given none (write include "cents" <value>, one value; a macro that takes several reads them as index . 0, index . 1` + docs},
		{`{{ include "cents" "a" }}`, ``},
		{`{{ include "coalesce2" "a" "b" "c" }}`, `models/me.sql:1:4: macro "coalesce2" (defined at macros/m.sql:3) takes 2 arguments, read as index . 0 and index . 1, and is given 3: "a", "b", "c" (write include "coalesce2" <0> <1>` + docs},
		{`{{ include "coalesce2" "a" }}`, `models/me.sql:1:4: macro "coalesce2" (defined at macros/m.sql:3) takes 2 arguments, read as index . 0 and index . 1, and is given one: "a", which a macro given one argument has as . itself, not as index . 0 (to give it a list of one, write (list ...)) (write include "coalesce2" <0> <1>` + docs},
		{`{{ include "coalesce2" (list "a") }}`, `models/me.sql:1:4: macro "coalesce2" (defined at macros/m.sql:3) takes 2 arguments, read as index . 0 and index . 1, and is given one: a list of 1 ([a]) (write include "coalesce2" <0> <1>` + docs},
		{`{{ include "coalesce2" "a" "b" }}{{ include "coalesce2" (list "a" "b") }}`, ``},
		{"x\n  {{ include \"coalesce2\" }}", `models/me.sql:2:6: macro "coalesce2" (defined at macros/m.sql:3) takes 2 arguments, read as index . 0 and index . 1, and is given none (write include "coalesce2" <0> <1>` + docs},
		{`{{ include "valid" "c" "o.at" }}`, `models/me.sql:1:4: macro "valid" (defined at macros/m.sql:4) takes one dict with the keys .alias and .at, and optionally .deleted, and is given 2: "c", "o.at" (write include "valid" (dict "alias" ... "at" ...)` + docs},
		{`{{ include "valid" (dict "alias" "c") }}`, `models/me.sql:1:4: macro "valid" (defined at macros/m.sql:4) takes one dict with the keys .alias and .at, and optionally .deleted, and is given a dict without "at" (it has "alias") (write include "valid" (dict "alias" ... "at" ...)` + docs},
		{`{{ include "valid" (dict "alias" "c" "at" "o.at" "deleteds" true) }}`, `models/me.sql:1:4: macro "valid" (defined at macros/m.sql:4) takes one dict with the keys .alias and .at, and optionally .deleted, and is given the key "deleteds", which it does not read (did you mean "deleted"?) (write include "valid" (dict "alias" ... "at" ...)` + docs},
		{`{{ include "valid" (dict "alias" "c" "at" "o.at") }}{{ include "valid" (dict "alias" "c" "at" "o.at" "deleted" true) }}`, ``},
		{`{{ include "now_utc" "x" }}`, `models/me.sql:1:4: macro "now_utc" (defined at macros/m.sql:5) takes no arguments (it never reads .), and is given one: "x" (write include "now_utc"` + docs},
		{`{{ include "now_utc" }}{{ include "now_utc" . }}`, ``},
		{`{{ include "maybe_third" "a" "b" }}{{ include "maybe_third" "a" "b" "c" "d" }}`, ``},
		{`{{ include "up_to_three" "a" "b" }}{{ include "up_to_three" "a" "b" "c" }}`, ``},
		{`{{ include "up_to_three" "a" "b" "c" "d" }}`, `models/me.sql:1:4: macro "up_to_three" (defined at macros/m.sql:7) takes 1 to 3 arguments, read as index . 0, index . 1 and index . 2, and is given 4: "a", "b", "c", "d" (write include "up_to_three" <0> <1> <2>` + docs},
		{`{{ include "cols" "a" "b" "c" }}{{ include "cols" }}`, ``},
		{`{{ include "test_positive" (dict "relation" "r" "column" "c" "model" "r") }}`, ``},
		// A block of the model's own file, and a call from a macro.
		{`{{ include "outer" }}`, `macros/m.sql:10:24: macro "cents" (defined at macros/m.sql:2) takes one argument, read as ., and is given 2: "a", "b" (write include "cents" <value>, one value; a macro that takes several reads them as index . 0, index . 1; docs/templates.md#macros) (in macro "outer", called from models/me.sql)`},
		{"{{ define \"own\" }}{{ . }}{{ end }}\n{{ include \"own\" 1 2 }}", `models/me.sql:2:4: macro "own" (defined at models/me.sql:1) takes one argument, read as ., and is given 2: 1, 2 (write include "own" <value>, one value; a macro that takes several reads them as index . 0, index . 1` + docs},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			tp, diags := set.Parse("models/me.sql", tc.text)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			for _, mapped := range []bool{false, true} {
				var err error
				if mapped {
					_, _, _, err = tp.RenderMapped(testEnv(), nil)
				} else {
					_, _, err = tp.Render(testEnv(), nil)
				}
				got := ""
				if err != nil {
					got = err.Error()
				}
				if got != tc.want {
					t.Errorf("mapped %v:\ngot  %s\nwant %s", mapped, got, tc.want)
				}
			}
		})
	}
}

// TestMissingKeyNamesTheKeys: a key a map does not have, read as .key,
// said only text/template's `map has no entry for key "west"`, placed at
// what it evaluated last ("regions" of (var "regions").west). It now names
// the expression, the keys the map has, the nearest one, and how to read a
// key that may be missing, placed at the key.
func TestMissingKeyNamesTheKeys(t *testing.T) {
	set, diags := ParseMacros([]MacroFile{{Path: "macros/m.sql", Text: `{{ define "loose" }}{{ range . }}{{ end }}{{ .alias }}.{{ .at }}{{ end }}` + "\n" +
		`{{ define "sub" }}{{ with .sub }}{{ .x }}{{ end }}{{ end }}` + "\n"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	const how = ", which is empty when it is; docs/templates.md#vars)"
	tests := []struct{ text, want string }{
		{`{{ (var "regions").west }}`, `models/me.sql:1:19: (var "regions").west: the map (var "regions") has no key "west": its keys are "east", "north" and "south" (did you mean "east"?) (read a key that may be missing with index (var "regions") "west"` + how},
		{"x\n{{ (var \"nested\").a.bb }}", `models/me.sql:2:18: (var "nested").a.bb: the map (var "nested").a has no key "bb": its keys are "b" and "c" (did you mean "b"?) (read a key that may be missing with index (var "nested").a "bb"` + how},
		{`{{ target.nam }}`, `models/me.sql:1:10: target.nam: the map target has no key "nam": its keys are "name" and "schema" (did you mean "name"?) (read a key that may be missing with index target "nam"` + how},
		{`{{ $.q }}{{ (dict "alias" "c" "at" 1).alia }}`, `models/me.sql:1:38: (dict "alias" "c" "at" 1).alia: the map (dict "alias" "c" "at" 1) has no key "alia": its keys are "alias" and "at" (did you mean "alias"?) (read a key that may be missing with index (dict "alias" "c" "at" 1) "alia"` + how},
		{`{{ $m := var "regions" }}{{ $m.sout }}`, `models/me.sql:1:31: $m.sout: the map $m has no key "sout" (read a key that may be missing with index $m "sout"` + how},
		{`{{ include "loose" (dict "alias" "c" "t" 1) }}`, `macros/m.sql:1:59: .at: the map . (the dict the macro was given) has no key "at": its keys are "alias" and "t" (did you mean "t"?) (read a key that may be missing with index . "at"` + how + ` (in macro "loose", called from models/me.sql)`},
		{`{{ include "sub" (dict "sub" (dict "y" 1)) }}`, `macros/m.sql:2:37: .x: the map . has no key "x" (read a key that may be missing with index . "x"` + how + ` (in macro "sub", called from models/me.sql)`},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			tp, diags := set.Parse("models/me.sql", tc.text)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			env := testEnv()
			env.Vars = map[string]any{"regions": map[string]any{"north": 1, "south": 2, "east": 3}, "nested": map[string]any{"a": map[string]any{"b": 1, "c": 2}}}
			env.Target = map[string]any{"name": "dev", "schema": "public"}
			for _, mapped := range []bool{false, true} {
				var err error
				if mapped {
					_, _, _, err = tp.RenderMapped(env, map[string]any{"q": 1})
				} else {
					_, _, err = tp.Render(env, map[string]any{"q": 1})
				}
				if err == nil || err.Error() != tc.want {
					t.Errorf("mapped %v:\ngot  %v\nwant %s", mapped, err, tc.want)
				}
			}
		})
	}
}

// TestMacroNames: a macro defined twice in one file was reported without a
// place ("multiple definition of template"), and in two files without the
// lines; a macro named as one of strata's functions (a dbt project's ref)
// was taken in silence, though {{ ref }} still calls strata's.
func TestMacroNames(t *testing.T) {
	tests := []struct {
		files []MacroFile
		want  string
	}{
		{[]MacroFile{{Path: "macros/a.sql", Text: "{{ define \"m\" }}1{{ end }}\n\n{{ define \"m\" }}2{{ end }}\n"}},
			`macros/a.sql:3:1: macro "m" is defined twice: macros/a.sql:1 and macros/a.sql:3 (macro names are unique across the project: rename one, or remove it; the first is used)`},
		{[]MacroFile{{Path: "macros/a.sql", Text: "\n{{ define \"m\" }}1{{ end }}\n"}, {Path: "macros/b.sql", Text: "{{ define \"m\" }}2{{ end }}\n"}},
			`macros/b.sql:1:1: macro "m" is defined twice: macros/a.sql:2 and macros/b.sql:1 (macro names are unique across the project: rename one, or remove it; the first is used)`},
		{[]MacroFile{{Path: "macros/a.sql", Text: "{{ define \"ref\" }}{{ . }}{{ end }}\n"}},
			`macros/a.sql:1:1: warning: macro "ref" has the name of strata's function ref (a dbt macro of that name replaces dbt's; a strata macro cannot), which it does not replace: {{ ref ... }} still calls the function, and only {{ include "ref" }} renders the macro: rename it`},
		{[]MacroFile{{Path: "macros/a.sql", Text: "{{ define \"len\" }}{{ . }}{{ end }}\n"}},
			`macros/a.sql:1:1: warning: macro "len" has the name of Go's built-in function len, which it does not replace: {{ len ... }} still calls the function, and only {{ include "len" }} renders the macro: rename it`},
		{[]MacroFile{{Path: "macros/a.sql", Text: "{{ define \"upper_snake\" }}{{ . }}{{ end }}\n"}}, ``},
	}
	for _, tc := range tests {
		set, diags := ParseMacros(tc.files)
		got := ""
		for _, d := range diags {
			got += d.Error()
		}
		if got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
		// The first of two definitions is the one used.
		if tp, _ := set.Parse("models/x.sql", `{{ include "m" }}`); tp != nil && set.File("m") != "" {
			if out, _, err := tp.Render(testEnv(), nil); err != nil || out != "1" {
				t.Errorf("include \"m\" = %q, %v, want the first definition's 1", out, err)
			}
		}
	}
}
