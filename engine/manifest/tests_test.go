package manifest

import (
	"testing"
	"testing/fstest"

	"strata/engine/diag"
	"strata/engine/project"
)

// buildDiags loads and builds a project of the given files and returns the
// manifest with every problem found.
func buildDiags(t *testing.T, files map[string]string) (*Manifest, diag.List) {
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
			_, diags := buildDiags(t, map[string]string{
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
