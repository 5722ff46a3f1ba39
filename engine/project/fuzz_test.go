package project

import (
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary project.yaml and models/*.yml text to the loader:
// it must report problems, never panic.
func FuzzLoad(f *testing.F) {
	f.Add("name: shop\nvars: {a: 1}\ntargets:\n  dev: {type: local, threads: 2}\nmodels:\n  staging: {materialized: view, tags: [s]}\n",
		"models:\n  - name: a\n    config: {materialized: table, indexes: [{columns: [id]}]}\n    columns:\n      - name: id\n        tests: [unique, not_null, {accepted_values: {values: [1, 2]}}]\n")
	f.Add("name: shop\n", "sources:\n  - name: crm\n    tables: [{name: t, freshness: {warn_after: 1h}}]\nexposures:\n  - name: e\n    type: dashboard\n    depends_on: [a]\n")
	f.Add("a: &x [*x]\n", "models: &m\n  - *m\n")
	f.Add("name: [\n", "models:\n\t- x")
	f.Add("name: shop\nmodels: {'.': {partition_by: {column: d, granularity: month}, grants: {select: [r]}}}\n", "seeds:\n  - name: raw\n    config: {column_types: {a: int}}\n")
	f.Add("name: shop\n", "unit_tests:\n  - name: t\n    model: a\n    given:\n      - {input: ref('b'), format: csv, rows: \"id\\n1\\n\"}\n      - {input: this, rows: [{id: 1}]}\n    overrides: {macros: {is_incremental: true}}\n    expect: {format: sql, rows: select 1}\n")
	f.Fuzz(func(t *testing.T, projectYAML, modelsYAML string) {
		fsys := fstest.MapFS{
			"project.yaml":         {Data: []byte(projectYAML)},
			"models/schema.yml":    {Data: []byte(modelsYAML)},
			"models/a.sql":         {Data: []byte("select 1")},
			"models/staging/b.sql": {Data: []byte("select 2")},
			"seeds/raw.csv":        {Data: []byte("id\n1\n")},
		}
		p, diags := Load(fsys)
		if p == nil && !diags.HasErrors() {
			t.Fatal("no project and no error")
		}
		for _, d := range diags {
			if d.Msg == "" {
				t.Fatalf("empty diagnostic at %v", d.Pos)
			}
		}
	})
}
