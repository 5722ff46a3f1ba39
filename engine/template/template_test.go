package template

import (
	"fmt"
	"strings"
	"testing"

	"strata/engine/pgname"
)

func testSet(t *testing.T) *Set {
	t.Helper()
	set, diags := ParseMacros([]MacroFile{{Path: "macros/m.sql", Text: "{{/* macros */}}\n" +
		`{{ define "cents" }}round({{ . }} * 100){{ end }}` + "\n" +
		`{{ define "from_orders" }}select * from {{ ref "orders" }}{{ end }}` + "\n" +
		`{{ define "bad_var" }}{{ var "nope" }}{{ end }}` + "\n"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return set
}

func testEnv() Env {
	return Env{
		Ref:           func(name string) (string, error) { return `"s".` + pgname.Ident(name), nil },
		Source:        func(s, tb string) (string, error) { return pgname.Ident(s) + "." + pgname.Ident(tb), nil },
		This:          `"s"."me"`,
		IsIncremental: true,
		Vars:          map[string]any{"start": "2024-01-01", "n": 3},
		LookupEnv: func(k string) (string, bool) {
			if k == "HOME_REGION" {
				return "eu", true
			}
			return "", false
		},
		Target:       map[string]any{"name": "dev", "schema_prefix": "x_", "type": "local"},
		RunStartedAt: "2024-05-01T10:00:00Z",
		Caller:       "models/me.sql",
	}
}

// TestFunctions renders every function strata adds (docs/templates.md) and a sample of sprig.
func TestFunctions(t *testing.T) {
	tests := []struct{ text, want string }{
		{`{{ ref "orders" }}`, `"s"."orders"`},
		{`{{ source "crm" "accounts" }}`, `"crm"."accounts"`},
		{`{{ this }}`, `"s"."me"`},
		{`{{ if is_incremental }}inc{{ else }}full{{ end }}`, `inc`},
		{`{{ config "materialized" "table" }}x`, `x`},
		{`{{ var "start" }}`, `2024-01-01`},
		{`{{ var "missing" "dflt" }}`, `dflt`},
		{`{{ add (var "n") 1 }}`, `4`},
		{`{{ env_var "HOME_REGION" }}`, `eu`},
		{`{{ env_var "UNSET_THING" "none" }}`, `none`},
		{`{{ target.name }} {{ target.schema_prefix }} {{ target.type }}`, `dev x_ local`},
		{`{{ include "cents" "amount" }}`, `round(amount * 100)`},
		{`{{ include "cents" "amount" | upper }}`, `ROUND(AMOUNT * 100)`},
		{`{{ include "from_orders" }}`, `select * from "s"."orders"`},
		{`{{ run_started_at }}`, `2024-05-01T10:00:00Z`},
		{`{{ ident "Order" }}`, `"Order"`},
		{`{{ literal "x" }}`, `'x'`},
		{`{{ var "start" | literal }}`, `'2024-01-01'`},
		// sprig, hermetic part
		{`{{ "a,b" | splitList "," | join "|" }}`, `a|b`},
		{`{{ list 1 2 3 | len }}`, `3`},
		{`{{ dict "k" "v" | toJson }}`, `{"k":"v"}`},
		{`{{ "Hello" | lower | trimSuffix "o" }}`, `hell`},
		{`{{ default "d" "" }}`, `d`},
		{`{{ sha256sum "a" | trunc 8 }}`, `ca978112`},
		{`{{ range $i, $c := list "a" "b" }}{{ if $i }}, {{ end }}{{ ident $c }}{{ end }}`, `"a", "b"`},
	}
	set := testSet(t)
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			tp, diags := set.Parse("models/me.sql", tc.text)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, _, err := tp.Render(testEnv(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestHermetic: sprig's clock, randomness and environment are not available.
func TestHermetic(t *testing.T) {
	fns := []string{"now", "date", "randAlpha", "uuidv4", "env", "expandenv", "getHostByName"}
	fns = append(fns, impureSprigFuncs...)
	for _, fn := range fns {
		t.Run(fn, func(t *testing.T) {
			_, diags := testSet(t).Parse("models/me.sql", "{{ "+fn+" }}")
			if !diags.HasErrors() || !strings.Contains(diags.Error(), `function "`+fn+`" not defined`) {
				t.Errorf("%s is available: %v", fn, diags)
			}
			// Not "did you mean" a function that happens to be spelled alike
			// (now: "not"), but why it is missing and what to write instead.
			if !strings.Contains(diags.Error(), "sprig's "+fn+" is left out of strata's templates") {
				t.Errorf("%s: the error does not say why it is left out: %v", fn, diags)
			}
		})
	}
}

// TestLeftOutWhy: the reason given for each left-out sprig function is
// its own: date and its kin take a time rather than read the clock, and
// run_started_at, which is text, cannot be given to them.
func TestLeftOutWhy(t *testing.T) {
	for _, c := range []struct{ name, want, not string }{
		{"now", "because it reads the clock", ""},
		{"ago", "because it reads the clock", ""},
		{"durationRound", "because it reads the clock", ""},
		{"date", "substr 0 10 run_started_at", "reads the clock, and"},
		{"dateInZone", "substr 0 10 run_started_at", "use run_started_at"},
		{"date_in_zone", "substr 0 10 run_started_at", "use run_started_at"},
		{"htmlDate", "substr 0 10 run_started_at", "use run_started_at"},
		{"htmlDateInZone", "substr 0 10 run_started_at", "use run_started_at"},
		{"dateModify", "now() - interval", "use run_started_at"},
		{"date_modify", "now() - interval", "use run_started_at"},
		{"mustDateModify", "now() - interval", "use run_started_at"},
		{"unixEpoch", "it takes a Go time", "use run_started_at"},
		{"toDate", "time zone", ""},
		{"uuidv4", "is random", ""},
		{"expandenv", "env_var", ""},
		{"getHostByName", "asks the network", ""},
		{"upper", "", "left out"},
	} {
		got := leftOutWhy(c.name)
		if c.want == "" && got != "" || !strings.Contains(got, c.want) || c.not != "" && strings.Contains(got, c.not) {
			t.Errorf("leftOutWhy(%s) = %q, want it to say %q and not %q", c.name, got, c.want, c.not)
		}
	}
}

func TestStaticAnalysis(t *testing.T) {
	tests := []struct {
		name, text string
		refs       []string
		macros     []string
		errs       string
	}{
		{name: "ref inside if counts", text: `{{ if is_incremental }}{{ ref "a" }}{{ else }}{{ ref "b" }}{{ end }}`, refs: []string{"a", "b"}},
		{name: "ref inside range and with", text: `{{ range list 1 }}{{ ref "a" }}{{ end }}{{ with 1 }}{{ ref "b" }}{{ end }}`, refs: []string{"a", "b"}},
		{name: "piped constant ref", text: `{{ "a" | ref }}`, refs: []string{"a"}},
		{name: "ref inside a macro", text: `{{ include "from_orders" }}`, refs: []string{"orders"}, macros: []string{"from_orders"}},
		{name: "non-constant ref", text: `{{ $x := "a" }}{{ ref $x }}`, errs: `models/me.sql:1:19: the argument of ref must be a constant string such as ref "stg_orders" (strata finds dependencies without running the template)`},
		{name: "ref of a var", text: `{{ ref (var "m") }}`, errs: `models/me.sql:1:4: the argument of ref must be a constant string such as ref "stg_orders" (strata finds dependencies without running the template)`},
		{name: "unknown macro", text: "select\n{{ include \"cent\" 1 }}", errs: `models/me.sql:2:4: macro "cent" is not defined (expected a {{ define "cent" }} block in macros/) (did you mean "cents"?)`},
		{name: "syntax error", text: "select\n{{ ref \"a\" ", errs: `models/me.sql:2:1: unclosed action (expected }})`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp, diags := testSet(t).Parse("models/me.sql", tc.text)
			if tc.errs != "" {
				if diags.Error() != tc.errs {
					t.Errorf("errors:\n got %s\nwant %s", diags.Error(), tc.errs)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var refs []string
			for _, r := range tp.Refs {
				refs = append(refs, r.Args[0])
			}
			if strings.Join(refs, ",") != strings.Join(tc.refs, ",") || strings.Join(tp.Macros, ",") != strings.Join(tc.macros, ",") {
				t.Errorf("refs %v macros %v, want %v %v", refs, tp.Macros, tc.refs, tc.macros)
			}
		})
	}
}

// TestErrorInMacro: the message names the macro's file and line and the calling model.
func TestErrorInMacro(t *testing.T) {
	tp, diags := testSet(t).Parse("models/me.sql", "select\n{{ include \"bad_var\" }}")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, _, err := tp.Render(testEnv(), nil)
	want := `macros/m.sql:4:26: var "nope" is not defined (set it under vars: in project.yaml, pass --vars, or give a default: var "nope" <default>) (in macro "bad_var", called from models/me.sql)`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// TestWrongArgumentCount: a call of one of strata's functions with too few
// or too many arguments says how it is called, and one of sprig's given a
// call without parentheses says how to pass a call's result.
func TestWrongArgumentCount(t *testing.T) {
	tests := []struct{ text, want string }{
		{`{{ var }}`, `models/me.sql:1:4: wrong number of args for var: want at least 1 got 0 (expected var "name", or var "name" <default>)`},
		{`{{ env_var }}`, `models/me.sql:1:4: wrong number of args for env_var: want at least 1 got 0 (expected env_var "NAME", or env_var "NAME" "<default>")`},
		{`{{ literal var "start" }}`, `models/me.sql:1:4: wrong number of args for literal: want 1 got 2 (expected literal <value>; the result of another function goes in parentheses: literal (var "x"))`},
		{`{{ ident printf "c_%s" "a" }}`, `models/me.sql:1:4: wrong number of args for ident: want 1 got 3 (expected ident "name"; the result of another function goes in parentheses: ident (printf "revenue_%s" $r))`},
		{`{{ this "x" }}`, `models/me.sql:1:4: wrong number of args for this: want 0 got 1 (this takes no arguments)`},
		{`{{ target "name" }}`, `models/me.sql:1:4: wrong number of args for target: want 0 got 1 (target takes no arguments: its fields are read as target.name, target.schema)`},
		{`{{ upper var "start" }}`, `models/me.sql:1:4: wrong number of args for upper: want 1 got 2 (to pass one function's result to another, put the inner call in parentheses: upper (var "x"), or pipe it: var "x" | upper)`},
		{`{{ replace "a" "b" }}`, `models/me.sql:1:4: wrong number of args for replace: want 3 got 2`},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			tp, diags := testSet(t).Parse("models/me.sql", tc.text)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			_, _, err := tp.Render(testEnv(), nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestGoErrorsExplained: text/template's and reflect's words for an index
// past the end of a list, and a comparison of a number with text, say what
// to write.
func TestGoErrorsExplained(t *testing.T) {
	set, diags := ParseMacros([]MacroFile{{Path: "macros/a.sql", Text: `{{ define "third" }}{{ if . }}{{ index . 2 }}{{ end }}{{ end }}`}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	const pastEnd = ` (a list of n items has indexes 0 to n-1: a macro given two arguments reads them as index . 0 and index . 1; len . is how many there are)`
	tests := []struct{ text, want string }{
		{`{{ include "third" (list "a" "b") }}`, `macros/a.sql:1:34: index 2 of a list of 2: past its end` + pastEnd + ` (in macro "third", called from models/me.sql)`},
		{`{{ index (list 1 2) 5 }}`, `models/me.sql:1:4: index 5 of a list of 2: past its end` + pastEnd},
		{`{{ if eq (var "n") "3" }}x{{ end }}`, `models/me.sql:1:7: incompatible types for comparison: int and string (eq, ne, lt, le, gt and ge compare values of one kind: a var written 90 in YAML is a number, "90" is text; compare like with like, eq (var "x") 90, or as text, eq (print (var "x")) "90")`},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			tp, diags := set.Parse("models/me.sql", tc.text)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			_, _, err := tp.Render(testEnv(), nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestReadsAreRecorded(t *testing.T) {
	tp, _ := testSet(t).Parse("models/me.sql", `{{ var "start" }}{{ var "x" 1 }}{{ env_var "HOME_REGION" }}`)
	_, reads, err := tp.Render(testEnv(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if reads.Vars["start"] != "2024-01-01" || reads.Vars["x"] != "default:1" || reads.EnvVars["HOME_REGION"] != "eu" {
		t.Errorf("reads = %+v", reads)
	}
}

// TestIncludeItself: a macro that includes itself is an error naming the macro
// chain, its file and the calling model, not a Go stack overflow.
func TestIncludeItself(t *testing.T) {
	set, diags := ParseMacros([]MacroFile{{Path: "macros/r.sql", Text: `{{ define "r" }}x{{ include "r" . }}{{ end }}` + "\n" +
		`{{ define "a" }}{{ include "b" }}{{ end }}{{ define "b" }}{{ include "a" }}{{ end }}`}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tests := []struct{ text, want string }{
		{`select {{ include "r" }}`, `macros/r.sql:1:21: macro "r" is included more than 100 levels deep (does it include itself? r -> r -> r -> r -> r -> r -> ...) (in macro "r", called from models/me.sql)`},
		{`select {{ include "a" }}`, `macros/r.sql:2:62: macro "a" is included more than 100 levels deep (does it include itself? a -> b -> a -> b -> a -> b -> ...) (in macro "b", called from models/me.sql)`},
	}
	for _, tc := range tests {
		tp, diags := set.Parse("models/me.sql", tc.text)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		// Twice: the renderer is reused, and its include chain must start empty.
		for i := 0; i < 2; i++ {
			_, _, err := tp.Render(testEnv(), nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("render %d of %s:\n got %v\nwant %s", i, tc.text, err, tc.want)
			}
		}
	}
}

// TestMacroOverrides: a macro replaced by text (a unit test's
// overrides.macros) renders that text wherever it is called: include and
// {{ template }}, in the model or in a macro it calls; and a render
// without the override, after one with it, renders the macro again.
func TestMacroOverrides(t *testing.T) {
	set, diags := ParseMacros([]MacroFile{{Path: "macros/b.sql", Text: `{{ define "bonus" }}100{{ end }}` +
		`{{ define "wrap_include" }}({{ include "bonus" }}){{ end }}{{ define "wrap_template" }}({{ template "bonus" }}){{ end }}`}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, c := range []struct{ name, text, want string }{
		{"include", `select {{ include "bonus" }}`, "select 7"},
		{"template", `select {{ template "bonus" }}`, "select 7"},
		{"template with dot", `select {{ template "bonus" . }}`, "select 7"},
		{"include of a macro that includes", `select {{ include "wrap_include" }}`, "select (7)"},
		{"include of a macro that calls template", `select {{ include "wrap_template" }}`, "select (7)"},
		{"template of a macro that calls template", `select {{ template "wrap_template" }}`, "select (7)"},
		{"model with its own blocks", `{{ define "own" }}x{{ end }}select {{ template "bonus" }}, {{ template "own" }}`, "select 7, x"},
	} {
		tp, diags := set.Parse("models/me.sql", c.text)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		env := testEnv()
		env.Macros = map[string]string{"bonus": "7"}
		if got, _, err := tp.Render(env, nil); err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
		if got, _, err := tp.Render(testEnv(), nil); err != nil || got != strings.ReplaceAll(c.want, "7", "100") {
			t.Errorf("%s without the override: got %q, %v", c.name, got, err)
		}
	}
}

// TestDbtConfigCall: dbt's {{ config(...) }} in a model is an error at its
// {{ saying that strata configures a model in YAML or with its own config
// call, each written out from the call's arguments when they are constants.
func TestDbtConfigCall(t *testing.T) {
	const head = "dbt's {{ config(...) }} is not strata's template syntax: strata configures a model under config: in its YAML entry"
	const generic = `, or with {{ config "key" value ... }} in its SQL, values constants such as {{ config "materialized" "table" "tags" (list "a" "b") }} (docs/models.md#config)`
	for _, c := range []struct{ name, text, want string }{
		{"one line", "{{ config(materialized='table', schema='marts') }}\nselect 1",
			`models/me.sql:1:1: ` + head + ` (config: {materialized: table, schema: marts}), or with {{ config "materialized" "table" "schema" "marts" }} in its SQL (docs/models.md#config)`},
		{"over lines, after a comment", "-- orders\n{{-\n  config(\n    materialized = \"incremental\",\n    unique_key = 'id',\n  )\n-}}\nselect 1",
			`models/me.sql:2:1: ` + head + ` (config: {materialized: incremental, unique_key: id}), or with {{ config "materialized" "incremental" "unique_key" "id" }} in its SQL (docs/models.md#config)`},
		{"list, bool, number, quoted text", "{{ config(tags=['nightly', 'finance'], enabled=False, retries=2, alias='true') }}\nselect 1",
			`models/me.sql:1:1: ` + head + ` (config: {tags: [nightly, finance], enabled: false, retries: 2, alias: 'true'}), or with {{ config "tags" (list "nightly" "finance") "enabled" false "retries" 2 "alias" "true" }} in its SQL (docs/models.md#config)`},
		{"not constants", "{{ config(materialized=var('mat'), schema='marts') }}\nselect 1",
			`models/me.sql:1:1: ` + head + generic},
		{"dict", "select 1 {{ config(grants={'select': ['r']}) }}",
			`models/me.sql:1:10: ` + head + generic},
	} {
		_, diags := testSet(t).Parse("models/me.sql", c.text)
		if got := diags.Error(); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// TestDeepIncludeIsFine: nesting below the limit still renders.
func TestDeepIncludeIsFine(t *testing.T) {
	set, diags := ParseMacros([]MacroFile{{Path: "macros/n.sql", Text: `{{ define "n" }}{{ if gt . 0 }}{{ include "n" (sub . 1) }}{{ else }}done{{ end }}{{ end }}`}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tp, _ := set.Parse("models/me.sql", `{{ include "n" 99 }}`)
	got, _, err := tp.Render(testEnv(), nil)
	if err != nil || got != "done" {
		t.Errorf("got %q, %v", got, err)
	}
}

// TestNullAndListVars: a null var is the empty string, so it prints empty,
// is false, and string functions take it; ident of a var that is no string
// says so in the user's words, not Go's.
func TestNullAndListVars(t *testing.T) {
	tests := []struct{ text, want, err string }{
		{text: `[{{ var "nul" }}]`, want: `[]`},
		{text: `{{ var "nul" | upper }}|{{ trim (var "nul") }}|{{ hasPrefix "x" (var "nul") }}`, want: `||false`},
		{text: `{{ literal (var "l") }}`, want: `('a', '')`},
		{text: `{{ if var "nul" }}yes{{ else }}no{{ end }}`, want: `no`},
		{text: `{{ default "d" (var "nul") }}`, want: `d`},
		{text: `{{ if eq (var "nul") "" }}empty{{ end }}`, want: `empty`},
		{text: `{{ ident (var "s") }}`, want: `"x"`},
		{text: `{{ ident (var "l") }}`, err: `models/me.sql:1:4: ident needs a name, a string; got a list (["a",""])`},
		{text: `{{ ident (var "nul") }}`, err: `models/me.sql:1:4: ident needs a non-empty name (PostgreSQL has no zero-length identifiers)`},
		{text: `{{ ident 5 }}`, err: `models/me.sql:1:4: ident needs a name, a string; got a number (5)`},
		{text: `{{ ident (var "m") }}`, err: `models/me.sql:1:4: ident needs a name, a string; got a map ({"k":true})`},
	}
	env := testEnv()
	env.Vars = map[string]any{"nul": "", "l": []any{"a", ""}, "s": "x", "m": map[string]any{"k": true}}
	checkRenders(t, env, tests)
}

// TestQuotingFunctions: ident and literal in templates refuse what PostgreSQL
// would reject at run time, and literal of nil and lists is SQL, not Go.
func TestQuotingFunctions(t *testing.T) {
	tests := []struct{ text, want, err string }{
		{text: `{{ literal nil }}`, want: `null`},
		{text: `{{ literal (list "a" "b's") }}`, want: `('a', 'b''s')`},
		{text: `{{ literal (list 1 nil) }}`, want: `('1', null)`},
		{text: `{{ literal 2 }}`, want: `'2'`},
		{text: `{{ literal (list) }}`, err: `models/me.sql:1:4: literal of an empty list: SQL has no empty list "()" (guard it with {{ if }})`},
		{text: `{{ literal (list (list 1)) }}`, err: `models/me.sql:1:4: literal of a list: element 1 ([1]) is not a string, number or boolean`},
		{text: `{{ literal (dict "a" 1) }}`, err: `models/me.sql:1:4: literal cannot quote a map (map[a:1]): give it a string, number, boolean or list`},
		{text: `{{ literal "a\x00b" }}`, err: `models/me.sql:1:4: literal "a\x00b" contains a NUL byte, which PostgreSQL text cannot hold`},
		{text: `{{ ident "" }}`, err: `models/me.sql:1:4: ident needs a non-empty name (PostgreSQL has no zero-length identifiers)`},
		{text: `{{ ident "a\x00b" }}`, err: `models/me.sql:1:4: ident "a\x00b" contains a NUL byte, which PostgreSQL identifiers cannot hold`},
	}
	checkRenders(t, testEnv(), tests)
}

// TestMacroFileWithASyntaxError: a syntax error in a macro file is
// reported once, at the block left open (not at the {{ define }} after it);
// the file's other macros are kept, and a template that includes the one
// that could not be read says where its problem is instead of "not
// defined".
func TestMacroFileWithASyntaxError(t *testing.T) {
	text := "{{/* money */}}\n" +
		`{{ define "cents" }}round({{ . }} * 100){{ end }}` + "\n" +
		`{{ define "open" }}` + "\n" +
		"select 1\n" +
		"\n" +
		`{{- define "later" -}}` + "\n" +
		`{{ if . }}later {{ . }}{{ end }}` + "\n" +
		`{{- end }}` + "\n"
	for _, eol := range []string{"\n", "\r\n"} {
		set, diags := ParseMacros([]MacroFile{
			{Path: "macros/money.sql", Text: strings.ReplaceAll(text, "\n", eol)},
			{Path: "macros/other.sql", Text: `{{ define "other" }}o{{ end }}`},
		})
		want := "macros/money.sql:3:1: this {{ define }} has no {{ end }} (the {{ define }} at line 6 starts before it is closed)"
		if diags.Error() != want {
			t.Errorf("%q line ends: got\n%v\nwant\n%s", eol, diags, want)
		}
		if got := set.Names(); strings.Join(got, " ") != "cents later other" {
			t.Errorf("%q line ends: macros kept: %v, want cents later other", eol, got)
		}
		tp, diags := set.Parse("models/a.sql", `select {{ include "cents" 2 }}, {{ include "later" 3 }}`)
		if diags.HasErrors() {
			t.Fatalf("%q line ends: %v", eol, diags)
		}
		out, _, err := tp.Render(testEnv(), nil)
		if err != nil || out != "select round(2 * 100), later 3" {
			t.Errorf("%q line ends: got %q, %v", eol, out, err)
		}
		_, diags = set.Parse("models/b.sql", `select {{ include "open" }}`)
		want = `models/b.sql:1:11: macro "open" could not be read: macros/money.sql has a syntax error in it (reported there)`
		if diags.Error() != want {
			t.Errorf("%q line ends: got\n%v\nwant\n%s", eol, diags, want)
		}
	}

	// A stray {{ end }} after the last define is the file's error; the
	// define before it is sound and kept.
	set, diags := ParseMacros([]MacroFile{{Path: "macros/m.sql", Text: "{{ define \"a\" }}a{{ end }}\n{{ define \"b\" }}{{ if . }}b{{ end }}{{ end }}\n{{ end }}\n"}})
	if want := "macros/m.sql:3:1: unexpected {{end}}"; !strings.HasPrefix(diags.Error(), want) || len(diags) != 1 {
		t.Errorf("stray end: got\n%v\nwant one error starting %s", diags, want)
	}
	if got := set.Names(); strings.Join(got, " ") != "a b" {
		t.Errorf("stray end: macros kept: %v, want a b", got)
	}
	tp, diags := set.Parse("models/m.sql", `select {{ include "b" 1 }}`)
	if diags.HasErrors() {
		t.Fatalf("stray end: %v", diags)
	}
	if out, _, err := tp.Render(testEnv(), nil); err != nil || out != "select b" {
		t.Errorf("stray end: got %q, %v", out, err)
	}
}

// TestNilPrintsNothing: a missing value printed by an action (a key a dict
// lacks, through index; dot in a macro included without arguments; sprig's
// first of an empty list) prints nothing, as a null var does; it printed
// text/template's "<no value>" into the SQL. Both renders, plain and
// mapped, and inside an include.
func TestNilPrintsNothing(t *testing.T) {
	set, diags := ParseMacros([]MacroFile{{Path: "macros/m.sql", Text: `{{ define "none" }}none:{{ if true }}{{ . }}{{ end }}{{ end }}` +
		`{{ define "opt" }}{{ .alias }}.{{ index . "at" }}{{ end }}`}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tests := []struct{ text, want string }{
		{`[{{ index (dict "a" 1) "b" }}]`, `[]`},
		{`[{{ include "none" }}]`, `[none:]`},
		{`[{{ template "none" }}]`, `[none:]`},
		{`[{{ include "opt" (dict "alias" "c") }}]`, `[c.]`},
		{`[{{ first (list) }}|{{ coalesce nil }}|{{ . }}]`, `[||]`},
		{`[{{ "<no value>x" }}]`, `[<no value>x]`},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			tp, diags := set.Parse("models/me.sql", tc.text)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, _, err := tp.Render(testEnv(), nil)
			if err != nil || got != tc.want {
				t.Errorf("Render: got %q, %v, want %q", got, err, tc.want)
			}
			got, _, _, err = tp.RenderMapped(testEnv(), nil)
			if err != nil || got != tc.want {
				t.Errorf("RenderMapped: got %q, %v, want %q", got, err, tc.want)
			}
		})
	}
}

// TestDigIntoVars: sprig's dig failed on a var mapping ("interface
// conversion: interface {} is template.VarMap"); strata's walks var
// mappings and plain dicts alike, gives the default where a key is
// missing, and says what is wrong where a level is no mapping.
func TestDigIntoVars(t *testing.T) {
	tests := []struct{ text, want, err string }{
		{text: `{{ dig "d" "e" 0 (var "m") }}`, want: `2`},
		{text: `{{ dig "d" "x" "none" (var "m") }}`, want: `none`},
		{text: `{{ dig "b" "c" "none" (var "m") }}`, want: `none`},
		{text: `{{ dig "d" 0 (var "m") }}`, want: `{"e":2}`},
		{text: `{{ dig "k" "v" 0 (dict "k" (dict "v" 7)) }}`, want: `7`},
		{text: `{{ dig "a" "x" 0 (var "m") }}`, err: `models/me.sql:1:4: dig: .a is not a mapping (1), so it has no key "x"`},
		{text: `{{ dig "a" 0 (var "l") }}`, err: `models/me.sql:1:4: dig's last argument must be a mapping; got ["a",""]`},
		{text: `{{ dig 1 0 (var "m") }}`, err: `models/me.sql:1:4: dig's keys are strings; got 1`},
		{text: `{{ index (var "m") "b" "c" }}`, err: `models/me.sql:1:4: index of nil pointer (a key before the last is missing: index of a missing key is nothing, which has no keys; dig "a" "b" "default" (var "x") gives a default instead)`},
		{text: `{{ dig 0 (var "m") }}`, err: `models/me.sql:1:4: dig needs one or more keys, a default and a mapping, as in dig "a" "b" 0 (var "x")`},
	}
	env := testEnv()
	env.Vars = map[string]any{"l": []any{"a", ""}, "m": map[string]any{"a": 1, "d": map[string]any{"e": 2}}}
	checkRenders(t, env, tests)
}

// checkRenders renders each case's text as models/me.sql with env and
// compares the result, or the error, with what the case wants.
func checkRenders(t *testing.T, env Env, tests []struct{ text, want, err string }) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			tp, diags := testSet(t).Parse("models/me.sql", tc.text)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, _, err := tp.Render(env, nil)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("got %q, %v\nwant error %s", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v, want %q", got, err, tc.want)
			}
		})
	}
}

// TestMacroFileJinja: in a macro file, Jinja inside a {{ define }} block
// is an error (it would reach PostgreSQL), and outside them a dbt macro
// copied as it is ({% macro %} ... {% endmacro %}, {% test %}, ...) with
// every statement in it, each at its line and column. The rest of the text
// outside {{ define }} blocks is ignored, so Jinja there is no error: prose
// about dbt, an SQL comment, a Go comment. Text inside actions is Go's: a
// comment or a string may hold "}}" before what looks like Jinja.
func TestMacroFileJinja(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string // every error, in order
	}{
		{"{% macro cents(col) %}({{ . }}){% endmacro %}\n", []string{"macros/m.sql:1:1: Jinja's {% macro %}", "macros/m.sql:1:32: Jinja's {% endmacro %}"}},
		{"{% macro cents(col) %}\n  {% if col %}x{% endif %}\n  {% set y = 1 %}\n{%- endmacro %}\n", []string{
			"macros/m.sql:1:1: Jinja's {% macro %}", "macros/m.sql:2:3: Jinja's {% if %}", "macros/m.sql:2:16: Jinja's {% endif %}",
			"macros/m.sql:3:3: Jinja's {% set %}", "macros/m.sql:4:1: Jinja's {% endmacro %}"}},
		{"{% test is_positive(model, column_name) %}\nselect {% if x %}1{% endif %}\n{% endtest %}\n", []string{
			"macros/m.sql:1:1: Jinja's {% test %}", "macros/m.sql:2:8: Jinja's {% if %}", "macros/m.sql:2:19: Jinja's {% endif %}", "macros/m.sql:3:1: Jinja's {% endtest %}"}},
		{"{% materialization x, default %}{% set a = 1 %}{% endmaterialization %}", []string{
			"macros/m.sql:1:1: Jinja's {% materialization %}", "macros/m.sql:1:33: Jinja's {% set %}", "macros/m.sql:1:48: Jinja's {% endmaterialization %}"}},
		// A macro left open runs to the end of the file.
		{"{% macro a() %}\n{% if x %}\n", []string{"macros/m.sql:1:1: Jinja's {% macro %}", "macros/m.sql:2:1: Jinja's {% if %}"}},
		// After a copied macro, prose again.
		{"{% macro a() %}{% endmacro %}\nuse {% raw %} in dbt\n", []string{"macros/m.sql:1:1: Jinja's {% macro %}", "macros/m.sql:1:16: Jinja's {% endmacro %}"}},
		{"{{ define \"m\" }}x{{ end }}\n{% macro a() %}{% endmacro %}", []string{"macros/m.sql:2:1: Jinja's {% macro %}", "macros/m.sql:2:16: Jinja's {% endmacro %}"}},
		{"{{/* a */}} {% macro x() %}\n", []string{"macros/m.sql:1:13: Jinja's {% macro %}"}},
		{"{{ define \"m\" }}{{ \"}}\" }}{{ end }}{% macro x() %}\n", []string{"macros/m.sql:1:36: Jinja's {% macro %}"}},
		// An SQL comment in a {{ define }} is not the file's: its /* does not hide the macro after it.
		{"{{ define \"m\" }}select '/*'{{ end }}\n{% macro x() %}\n/* */\n", []string{"macros/m.sql:2:1: Jinja's {% macro %}"}},
		// A /* never closed is no comment.
		{"/* money\n{% macro x() %}\n", []string{"macros/m.sql:2:1: Jinja's {% macro %}"}},
		// Inside a {{ define }} block Jinja would reach PostgreSQL, in an SQL comment too.
		{"{{ define \"m\" }}-- {% if x %}\n{{ end }}\n", []string{"macros/m.sql:1:20: Jinja's {% if %}"}},
		{"{{ define \"m\" }}{# c #}{{ end }}\n", []string{"macros/m.sql:1:17: Jinja's {# ... #} comment"}},

		// Prose and comments outside {{ define }} blocks.
		{"-- Money macros. In dbt, use {% raw %} to keep {{ \"{{\" }} as text.\n{{ define \"m\" }}x{{ end }}\n", nil},
		{"Money macros, moved from dbt, where {% if is_incremental() %} was Jinja.\n{{ define \"m\" }}x{{ end }}\n", nil},
		{"{% set x = 1 %}\n{% if x %}{% endif %}\n", nil},
		// Prose naming a definition's statement defines nothing.
		{"Money helpers. In dbt these were {% macro %} blocks, and tests {%- test -%} blocks.\n{% if x %}\n{{ define \"m\" }}x{{ end }}\n", nil},
		{"-- dbt had {% macro cents(col) %} here\n", nil},
		{"/* dbt:\n{% macro cents(col) %}({{ . }}){% endmacro %}\n*/\n", nil},
		{"/* nested /* comment */ {% macro x() %} */\n", nil},
		{"{# a dbt comment {% macro x() %} #}\n", nil},
		{"{{/* like dbt's {% macro cents(col) %} */}}\n", nil},
		{"{{/* a }} comment: {% if x %} */}}\n", nil},
		{"{{- /* a }} comment:\n{% macro x() %} */ -}}\n", nil},
		{"{{ define \"m\" }}{{ \"}}{% if x %}\" }}{{ end }}\n", nil},
		{"{{ define \"m\" }}{{ `}}{% for x in y %}` }}{{ end }}\n", nil},
	} {
		_, diags := ParseMacros([]MacroFile{{Path: "macros/m.sql", Text: c.text}})
		var got []string
		for _, d := range diags {
			got = append(got, d.Error())
		}
		ok := len(got) == len(c.want)
		for i := 0; ok && i < len(got); i++ {
			ok = strings.HasPrefix(got[i], c.want[i])
		}
		if !ok {
			t.Errorf("%q:\ngot  %q\nwant %q", c.text, got, c.want)
		}
	}
}

// TestMacroCalledAsFunction: a macro called as dbt calls one, as a
// function, is an error at the call that names the macro's file and shows
// the include that calls it; an unknown function is reported as before.
func TestMacroCalledAsFunction(t *testing.T) {
	set, diags := ParseMacros([]MacroFile{{Path: "macros/money.sql", Text: `{{ define "cents" }}{{ .col }} * 100{{ end }}`}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	const hint = `function "cents" not defined: cents is a macro (macros/money.sql), which is called with include, its arguments after its name: {{ include "cents" "a" "b" }}, or named ones in a dict: {{ include "cents" (dict "col" "amount") }} (docs/templates.md#macros)`
	for _, c := range []struct{ text, want string }{
		{`select {{ cents "amount" }}`, "models/m.sql:1:8: " + hint},
		{"select 1,\n  {{ cents(\"amount\") }}", "models/m.sql:2:3: " + hint},
		{`select {{ cents }}`, "models/m.sql:1:8: " + hint},
		{`select {{ centimes "amount" }}`, `models/m.sql:1:8: function "centimes" not defined (expected one of strata's functions such as ref, source, var, include, or a sprig function) (did you mean "contains"?)`},
		{`select {{ include "cents" (dict "col" "amount") }}`, ""},
	} {
		_, diags := set.Parse("models/m.sql", c.text)
		if got := diags.Error(); got != c.want {
			t.Errorf("%s:\ngot  %s\nwant %s", c.text, got, c.want)
		}
	}
}

// TestVarScopedAsInDbt: a var that is not defined but sits in a mapping
// among the vars (dbt_project.yml's vars, scoped by the project's name)
// says where it is and the two ways to read it; other missing vars, and
// the vars that are there, are as before.
func TestVarScopedAsInDbt(t *testing.T) {
	vars := map[string]any{
		"jaffle":  map[string]any{"start_date": "2024-01-01"},
		"regions": map[string]any{"north": 1},
		"n":       3,
	}
	for _, c := range []struct{ text, want string }{
		{`{{ var "start_date" }}`, `models/me.sql:1:4: var "start_date" is not defined: the vars have it under jaffle: (as dbt scopes vars by a project's name), and strata's vars are not scoped: write it directly under vars: in project.yaml, or read it as index (var "jaffle") "start_date"`},
		{`{{ var "north" }}`, `models/me.sql:1:4: var "north" is not defined: the vars have it under regions: (as dbt scopes vars by a project's name), and strata's vars are not scoped: write it directly under vars: in project.yaml, or read it as index (var "regions") "north"`},
		{`{{ var "south" }}`, `models/me.sql:1:4: var "south" is not defined (set it under vars: in project.yaml, pass --vars, or give a default: var "south" <default>)`},
		{`{{ var "n" }} {{ index (var "jaffle") "start_date" }} {{ var "start_date" "d" }}`, ""},
	} {
		tp, diags := testSet(t).Parse("models/me.sql", c.text)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		env := testEnv()
		env.Vars = vars
		_, _, err := tp.Render(env, nil)
		if got := fmt.Sprint(err); c.want == "" && err != nil || c.want != "" && got != c.want {
			t.Errorf("%s:\ngot  %v\nwant %s", c.text, err, c.want)
		}
	}
}
