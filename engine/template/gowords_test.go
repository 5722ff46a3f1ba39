package template

import "testing"

// TestFunctionErrorsInOurWords: a function that fails while a template
// renders said Go's words ("runtime error: integer divide by zero",
// "reflect: call of reflect.Value.Type on zero Value", "value has type
// int; should be string", "nil data; no entry for key"), without the
// function's name, and a chain's error was placed at, and named by, what
// text/template evaluated last inside it. Each now names the call or the
// expression, at its place, and says what to do; fail's message is kept as
// the template wrote it.
func TestFunctionErrorsInOurWords(t *testing.T) {
	set, diags := ParseMacros([]MacroFile{{Path: "macros/m.sql", Text: `{{ define "guard" }}{{ if not . }}{{ fail "guard: give the column, as include \"guard\" \"c\"" }}{{ end }}{{ . }}{{ end }}` + "\n"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tests := []struct{ text, want string }{
		{`{{ div 1 0 }}`, `models/me.sql:1:4: div 1 0 divides by zero (test the divisor first, {{ if ne $d 0 }} ... {{ end }}, or divide in SQL, where x / nullif(y, 0) is null)`},
		{`{{ mod (var "n") 0 }}`, `models/me.sql:1:4: mod (var "n") 0 divides by zero (test the divisor first, {{ if ne $d 0 }} ... {{ end }}, or divide in SQL, where x / nullif(y, 0) is null)`},
		{`{{ fail "set var x: see README" }}`, `models/me.sql:1:4: set var x: see README`},
		{`{{ include "guard" "" }}`, `macros/m.sql:1:38: guard: give the column, as include "guard" "c" (in macro "guard", called from models/me.sql)`},
		{`{{ mustRegexMatch "(" "x" }}`, "models/me.sql:1:4: mustRegexMatch \"(\" \"x\" failed: error parsing regexp: missing closing ): `(`"},
		{`{{ slice (list 1 2) 3 }}`, `models/me.sql:1:4: slice (list 1 2) 3: an index is past the end of the list (slice cuts a list of n items with indexes from 0 to n, the first no greater than the second; len gives n)`},
		{`{{ mustDeepCopy nil }}`, `models/me.sql:1:4: mustDeepCopy nil failed: mustDeepCopy cannot work on the value it was given (often nothing: a missing key, a null var; or a list or dict where it takes text); Go said "reflect: call of reflect.Value.Type on zero Value"`},
		{`{{ upper 1 }}`, `models/me.sql:1:10: the argument 1 is not text, which the function takes there (text is written in double quotes: "1")`},
		{`{{ index (list 1 2) 2 }}`, `models/me.sql:1:4: index 2 of a list of 2: past its end (a list of n items has indexes 0 to n-1: a macro given two arguments reads them as index . 0 and index . 1; len . is how many there are)`},
		{`{{ index (dict "a" 1) 1 }}`, `models/me.sql:1:4: index of a dict with the key 1, which is a number: the dict's keys are text (index <dict> "key")`},
		{`{{ .y.z }}`, `models/me.sql:1:6: .y.z reads the key "y" of nothing (nil): in a model or a hook, . is nothing, and in a macro it is what include gave it; a key before it that is missing is nothing too (read a path that may be missing with dig "a" "b" "<default>" <map>; docs/templates.md#vars)`},
		{`{{ (index (dict "a" 1) "b").c }}`, `models/me.sql:1:28: (index (dict "a" 1) "b").c reads the key "c" of nothing (nil): in a model or a hook, . is nothing, and in a macro it is what include gave it; a key before it that is missing is nothing too (read a path that may be missing with dig "a" "b" "<default>" <map>; docs/templates.md#vars)`},
		{`{{ (list 1 2).x }}`, `models/me.sql:1:14: (list 1 2).x reads the key "x" of a dict, and the value before it is a list, which has no keys (a list's items are read with index <list> 0; docs/templates.md#vars)`},
		{`{{ required "set y" .y }}`, `models/me.sql:1:1: function "required" not defined (required is Helm's, not sprig's: write {{ if not $x }}{{ fail "the message" }}{{ end }}, which stops the render with the message as it is; a var without a default is an error when it is not set)`},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			tp, diags := set.Parse("models/me.sql", tc.text)
			if diags.HasErrors() {
				if diags.Err().Error() != tc.want {
					t.Errorf("parse:\ngot  %v\nwant %s", diags.Err(), tc.want)
				}
				return
			}
			for _, mapped := range []bool{false, true} {
				var err error
				if mapped {
					_, _, _, err = tp.RenderMapped(testEnv(), nil)
				} else {
					_, _, err = tp.Render(testEnv(), nil)
				}
				if err == nil || err.Error() != tc.want {
					t.Errorf("mapped %v:\ngot  %v\nwant %s", mapped, err, tc.want)
				}
			}
		})
	}
}
