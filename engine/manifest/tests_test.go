package manifest

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"strata/engine/diag"
	"strata/engine/project"
)

// buildWithDiags loads and builds a project of the given files and returns
// the manifest with every problem found.
func buildWithDiags(t *testing.T, files map[string]string) (*Manifest, diag.List) {
	t.Helper()
	fsys := fstest.MapFS{"project.yaml": {Data: []byte("name: p\n")}}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	p, diags := project.Load(fsys)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m, diags := Build(p, Target{Name: "dev", Type: "local", Schema: "tgt"})
	return m, diags
}

// TestTestArgumentTypes pins what validate accepts as the arguments of
// accepted_range and accepted_values: bounds may be dates, timestamps and
// strings as well as numbers (YAML decodes an unquoted date to a time).
func TestTestArgumentTypes(t *testing.T) {
	cases := []struct {
		name, test, want string // want "" = no problem
	}{
		{"date bounds", "accepted_range: {min: 2023-01-01, max: 2024-12-31}", ""},
		{"timestamp bound", "accepted_range: {min: 2023-01-01T10:00:00Z}", ""},
		{"string bound", "accepted_range: {max: zzz}", ""},
		{"number bounds", "accepted_range: {min: -1, max: 2.5}", ""},
		{"list bound", "accepted_range: {min: [1]}", "test accepted_range: min must be a number, a date, a timestamp or a string, got [1]"},
		{"quote false", "accepted_values: {values: [1, 2], quote: false}", ""},
		{"quote not a bool", "accepted_values: {values: [1, 2], quote: maybe}", "test accepted_values: quote must be true or false"},
		{"date values", "accepted_values: {values: [2024-01-01, 2024-06-01]}", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := buildWithDiags(t, map[string]string{
				"models/m.sql": "select 1 as v",
				"models/m.yml": "models:\n  - name: m\n    columns:\n      - name: v\n        tests:\n          - " + c.test + "\n",
			})
			got := ""
			if len(diags) > 0 {
				got = diags[0].Msg
			}
			if got != c.want {
				t.Errorf("got problem %q, want %q (all: %v)", got, c.want, diags)
			}
		})
	}
}

// TestSeedsAreMaterializedSeed: as in dbt, so that config.materialized:view
// selects views and not every seed.
func TestSeedsAreMaterializedSeed(t *testing.T) {
	m := build(t, map[string]string{
		"seeds/s.csv":  "id\n1\n",
		"seeds/s.yml":  "seeds:\n  - name: s\n    config: {schema: raw}\n",
		"models/m.sql": "select 1",
	})
	s, _ := m.Lookup("s")
	if s.Config.Materialized != "seed" {
		t.Errorf("seed materialized = %q, want seed", s.Config.Materialized)
	}
	if md, _ := m.Lookup("m"); md.Config.Materialized != "view" {
		t.Errorf("model materialized = %q, want view", md.Config.Materialized)
	}
}

// TestSeedChecksumIsTheFileHash: a seed's checksum is the sha256 of its
// file, so that state:modified sees a changed CSV.
func TestSeedChecksumIsTheFileHash(t *testing.T) {
	const csv = "id,name\n1,ann\n"
	m := build(t, map[string]string{"seeds/s.csv": csv})
	s, _ := m.Lookup("s")
	if want := project.Checksum([]byte(csv)); s.Checksum != want {
		t.Errorf("seed checksum = %q, want %q", s.Checksum, want)
	}
}

// TestTestsRecordTheirMacros: a custom generic test records test_<name> and
// the macros it includes, a singular test the macros it includes, and a
// change to one of them changes the test's checksum (state:modified).
func TestTestsRecordTheirMacros(t *testing.T) {
	files := func(helper string) map[string]string {
		return map[string]string{
			"macros/tests.sql": `{{ define "test_positive" }}select * from {{ .relation }} where {{ include "bad_value" .column }}{{ end }}` +
				`{{ define "bad_value" }}{{ ident . }} <= ` + helper + `{{ end }}{{ define "unused" }}1{{ end }}`,
			"models/m.sql":    "select 1 as v",
			"models/m.yml":    "models:\n  - name: m\n    columns:\n      - name: v\n        tests: [positive, not_null]\n",
			"tests/check.sql": `select * from {{ ref "m" }} where {{ include "bad_value" "v" }}`,
		}
	}
	before := build(t, files("0"))
	after := build(t, files("-1"))
	cases := []struct {
		id     string
		macros []string
	}{
		{"test.p.positive_m_v", []string{"bad_value", "test_positive"}},
		{"test.p.check", []string{"bad_value"}},
		{"test.p.not_null_m_v", nil},
	}
	for _, c := range cases {
		b, a := before.Nodes[c.id], after.Nodes[c.id]
		if b == nil || a == nil {
			t.Fatalf("no node %s among %s", c.id, strings.Join(before.Sorted(), ", "))
		}
		if !reflect.DeepEqual(b.Macros, c.macros) {
			t.Errorf("%s: macros = %q, want %q", c.id, b.Macros, c.macros)
		}
		changed := b.Checksum != a.Checksum
		if want := len(c.macros) > 0; changed != want {
			t.Errorf("%s: checksum changed = %v after a macro it uses changed, want %v", c.id, changed, want)
		}
	}
}

// TestBuiltinTestChecks pins every problem the loader and the manifest
// report about a built-in generic test's arguments, with its exact text and
// in order: the loader's (a missing argument, a column test on a model, an
// empty values list) and the manifest's (each argument's type, a name that
// is not a model or seed). Some problems are reported twice, by the loader
// and by the manifest, as they were before the test kinds had one registry.
func TestBuiltinTestChecks(t *testing.T) {
	const duration = "expected a duration such as 30m, 24h or 7d, got "
	cases := []struct {
		name     string
		onColumn bool // under the column v's tests:, else the model's
		test     string
		want     []string
	}{
		{"fine on a column", true, "not_null: {severity: warn}", nil},
		{"fine on a model", false, "recency: {field: at, max_age: 7d}", nil},
		{"column test on a model", false, "not_null", []string{"test not_null belongs under a column's tests: (it checks one column)"}},
		{"unknown argument", true, "unique: {valus: 1}", []string{`unknown key "valus" in test unique (did you mean "tags"?)`}},
		{"unknown kind", true, "not_nul", []string{`unknown test "not_nul" (expected a built-in test or a macro named "test_not_nul") (did you mean "not_null"?)`}},
		{"accepted_values missing values", true, "accepted_values", []string{`test accepted_values needs the argument "values"`}},
		{"accepted_values empty values", true, "accepted_values: {values: []}", []string{"accepted_values: values must be a non-empty list"}},
		{"accepted_values values not a list, quote not a bool", true, "accepted_values: {values: 3, quote: 1}", []string{"accepted_values: values must be a non-empty list", "test accepted_values: quote must be true or false"}},
		{"accepted_values nested value", true, "accepted_values: {values: [1, [2]]}", []string{"test accepted_values: values must be plain values, got [2]"}},
		{"accepted_values null value", true, "accepted_values: {values: [1, null]}", []string{"test accepted_values: values must be plain values, got <nil>"}},
		{"relationships missing field", true, "relationships: {to: m}", []string{`test relationships needs the argument "field"`}},
		{"relationships field not a string", true, "relationships: {to: m, field: [id]}", []string{"test relationships: field must be a string"}},
		{"relationships to nothing", true, "relationships: {to: n, field: id}", []string{`test relationships: to: no model or seed is called "n" (did you mean "m"?)`}},
		{"relationships to not a string", true, "relationships: {to: 1, field: id}", []string{`test relationships: to: no model or seed is called "" (did you mean "m"?)`}},
		{"accepted_range without bounds", true, "accepted_range: {inclusive: false}", []string{"test accepted_range: needs min, max or both"}},
		{"accepted_range max a list", true, "accepted_range: {min: 1, max: [2]}", []string{"test accepted_range: max must be a number, a date, a timestamp or a string, got [2]"}},
		{"accepted_range inclusive not a bool", true, "accepted_range: {min: 1, inclusive: 'no'}", []string{"test accepted_range: inclusive must be true or false"}},
		{"expression_is_true missing expression", false, "expression_is_true", []string{`test expression_is_true needs the argument "expression"`}},
		{"expression_is_true expression not a string", false, "expression_is_true: {expression: [1]}", []string{"test expression_is_true: expression must be a string"}},
		{"unique_combination missing columns", false, "unique_combination", []string{`test unique_combination needs the argument "columns"`, "test unique_combination: columns must be a non-empty list of column names"}},
		{"unique_combination columns not a list", false, "unique_combination: {columns: a}", []string{"test unique_combination: columns must be a non-empty list of column names"}},
		{"unique_combination column not a name", false, "unique_combination: {columns: [a, [b]]}", []string{"test unique_combination: columns must be a list of column names"}},
		{"equal_row_count missing to", false, "equal_row_count", []string{`test equal_row_count needs the argument "to"`}},
		{"equal_row_count to nothing", false, "equal_row_count: {to: x}", []string{`test equal_row_count: to: no model or seed is called "x" (did you mean "m"?)`}},
		{"row_count min a list", false, "row_count: {min: [1]}", []string{"test row_count: min must be a number"}},
		{"row_count max a bool", false, "row_count: {max: true}", []string{"test row_count: max must be a number"}},
		{"row_count without bounds", false, "row_count", nil}, // compile reports it
		{"recency missing max_age", false, "recency: {field: at}", []string{`test recency needs the argument "max_age"`, "test recency: max_age: " + duration + `""`}},
		{"recency field not a string", false, "recency: {field: [at], max_age: 1h}", []string{"test recency: field must be a string"}},
		{"recency max_age not a duration", false, "recency: {field: at, max_age: soon}", []string{"test recency: max_age: " + duration + `"soon"`}},
		{"recency max_age negative", false, "recency: {field: at, max_age: -1h}", []string{"test recency: max_age: " + duration + `"-1h"`}},
		{"recency max_age a number", false, "recency: {field: at, max_age: 24}", []string{"test recency: max_age: " + duration + `""`}},
		// freshness is made from a source's freshness:; written by hand it
		// is not checked until compile.
		{"freshness by hand", false, "freshness: {field: at, warn_after: soon, to_be: 1}", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			yml := "models:\n  - name: m\n    tests:\n      - " + c.test + "\n"
			if c.onColumn {
				yml = "models:\n  - name: m\n    columns:\n      - name: v\n        tests:\n          - " + c.test + "\n"
			}
			fsys := fstest.MapFS{
				"project.yaml": {Data: []byte("name: p\n")},
				"models/m.sql": {Data: []byte("select 1 as v, now() as at")},
				"models/m.yml": {Data: []byte(yml)},
			}
			p, diags := project.Load(fsys)
			if p == nil {
				t.Fatal(diags)
			}
			_, d := Build(p, Target{Name: "dev", Type: "local", Schema: "tgt"})
			diags = append(diags, d...)
			var got []string
			for _, d := range diags {
				got = append(got, d.Msg)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got problems\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

// TestSourceFreshnessDurations: a source's freshness durations are checked
// as the loader reads them, with the message of a test's max_age.
func TestSourceFreshnessDurations(t *testing.T) {
	fsys := fstest.MapFS{
		"project.yaml": {Data: []byte("name: p\n")},
		"models/s.yml": {Data: []byte("sources:\n  - name: crm\n    loaded_at_field: at\n    freshness: {warn_after: 12x, error_after: -1d}\n    tables:\n      - name: a\n")},
	}
	_, diags := project.Load(fsys)
	var got []string
	for _, d := range diags {
		got = append(got, d.Error())
	}
	want := []string{
		`models/s.yml:4:29: warn_after: expected a duration such as 30m, 24h or 7d, got "12x"`,
		`models/s.yml:4:47: error_after: expected a duration such as 30m, 24h or 7d, got "-1d"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got problems\n%q\nwant\n%q", got, want)
	}
}

// TestDbtRefArgumentKeepsTheTestsID: to: ref('a') is the same test as
// to: a, id included, also where two tests of one kind on a column get a
// suffix made of their arguments; mismatched quotes are no ref.
func TestDbtRefArgumentKeepsTheTestsID(t *testing.T) {
	ids := func(to string) []string {
		t.Helper()
		m, diags := buildWithDiags(t, map[string]string{
			"project.yaml": "name: p\n",
			"models/a.sql": "select 1 as id",
			"models/b.sql": "select 1 as id",
			"models/c.sql": "select 1 as a_id",
			"models/c.yml": "models:\n  - name: c\n    columns:\n      - name: a_id\n        tests:\n          - relationships: {to: b, field: id}\n          - relationships: {to: " + to + ", field: id}\n",
		})
		if diags.HasErrors() {
			t.Fatalf("to: %s: %v", to, diags)
		}
		var out []string
		for id, n := range m.Nodes {
			if n.Kind == Test {
				out = append(out, id)
			}
		}
		sort.Strings(out)
		return out
	}
	plain := ids("a")
	for _, to := range []string{`"ref('a')"`, `'ref("a")'`, `"ref( 'a' )"`} {
		if got := ids(to); !slices.Equal(got, plain) {
			t.Errorf("to: %s gives tests %v, to: a %v", to, got, plain)
		}
	}
	_, diags := buildWithDiags(t, map[string]string{
		"project.yaml": "name: p\n",
		"models/c.sql": "select 1 as a_id",
		"models/c.yml": "models:\n  - name: c\n    columns:\n      - name: a_id\n        tests: [{relationships: {to: \"ref('c\\\")\", field: a_id}}]\n",
	})
	if !diags.HasErrors() {
		t.Errorf("ref('c\") with mismatched quotes was taken for a ref")
	}
	// A name holding a quote, written in the other quotes, as dbt's YAML
	// writes it: the test reads that model or source table.
	m, diags := buildWithDiags(t, map[string]string{
		"project.yaml":    "name: p\n",
		"models/it's.sql": "select 1 as id",
		"models/src.yml":  "sources:\n  - name: crm's src\n    tables: [{name: 'Acc \"ounts\"'}]\n",
		"models/c.sql":    "select 1 as a_id",
		"models/c.yml": "models:\n  - name: c\n    tests:\n      - equal_row_count: {to: \"source(\\\"crm's src\\\", 'Acc \\\"ounts\\\"')\"}\n" +
			"    columns:\n      - name: a_id\n        tests:\n          - relationships: {to: 'ref(\"it''s\")', field: id}\n",
	})
	if diags.HasErrors() {
		t.Fatalf("names holding quotes: %v", diags)
	}
	var deps []string
	for _, n := range m.Nodes {
		if n.Kind == Test {
			deps = append(deps, n.DependsOn...)
		}
	}
	sort.Strings(deps)
	if want := []string{"model.p.c", "model.p.c", "model.p.it's", "source.p.crm's src.Acc \"ounts\""}; !slices.Equal(deps, want) {
		t.Errorf("the tests depend on %q, want %q", deps, want)
	}
}
