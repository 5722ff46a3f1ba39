package manifest

import (
	"reflect"
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
