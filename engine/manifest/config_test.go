package manifest

import (
	"reflect"
	"testing"
)

// build loads a project of the given files (project.yaml defaults to a bare one).
func build(t *testing.T, files map[string]string) *Manifest {
	t.Helper()
	m, diags := buildWithDiags(t, files)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return m
}

// TestConfigPrecedence pins the precedence: config in the SQL file > config: in YAML >
// folder defaults (deepest folder wins) > built-ins. Tags accumulate (sorted).
func TestConfigPrecedence(t *testing.T) {
	const folders = "name: p\nmodels:\n  .: {materialized: table, schema: all, tags: [all]}\n  a: {materialized: incremental, schema: a}\n  a/b: {schema: ab, tags: [ab]}\n"
	tests := []struct {
		name                 string
		files                map[string]string
		model                string
		materialized, schema string
		tags                 []string
	}{
		{
			name:  "built-ins: a view in the target's schema",
			files: map[string]string{"models/m.sql": "select 1"},
			model: "m", materialized: "view", schema: "tgt",
		},
		{
			name:  "folder '.' applies to every model",
			files: map[string]string{"project.yaml": folders, "models/m.sql": "select 1"},
			model: "m", materialized: "table", schema: "all", tags: []string{"all"},
		},
		{
			name:  "a deeper folder wins over a shallower one, key by key",
			files: map[string]string{"project.yaml": folders, "models/a/b/m.sql": "select 1"},
			model: "m", materialized: "incremental", schema: "ab", tags: []string{"ab", "all"},
		},
		{
			name: "YAML config: wins over folder defaults",
			files: map[string]string{"project.yaml": folders, "models/a/b/m.sql": "select 1",
				"models/a/b/m.yml": "models:\n  - name: m\n    config: {materialized: view, schema: yaml}\n"},
			model: "m", materialized: "view", schema: "yaml", tags: []string{"ab", "all"},
		},
		{
			name: "config in the SQL file wins over YAML",
			files: map[string]string{"project.yaml": folders, "models/a/b/m.sql": `{{ config "schema" "sql" "tags" (list "x") }}select 1`,
				"models/a/b/m.yml": "models:\n  - name: m\n    config: {materialized: view, schema: yaml}\n"},
			model: "m", materialized: "view", schema: "sql", tags: []string{"ab", "all", "x"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := build(t, tc.files)
			n, ok := m.Lookup(tc.model)
			if !ok {
				t.Fatalf("no model %s", tc.model)
			}
			if n.Config.Materialized != tc.materialized {
				t.Errorf("materialized = %q, want %q", n.Config.Materialized, tc.materialized)
			}
			if n.Relation.Schema != tc.schema {
				t.Errorf("schema = %q, want %q", n.Relation.Schema, tc.schema)
			}
			if len(n.Config.Tags) != 0 || len(tc.tags) != 0 {
				if !reflect.DeepEqual(n.Config.Tags, tc.tags) {
					t.Errorf("tags = %q, want %q", n.Config.Tags, tc.tags)
				}
			}
		})
	}
}

func TestRefInsideIfIsADependency(t *testing.T) {
	m := build(t, map[string]string{
		"models/a.sql": "select 1 as id",
		"models/b.sql": "select 1 as id",
		"models/c.sql": `select * from {{ ref "a" }}{{ if is_incremental }} where id > (select max(id) from {{ ref "b" }}){{ end }}`,
	})
	n, _ := m.Lookup("c")
	want := []string{"model.p.a", "model.p.b"}
	if !reflect.DeepEqual(n.DependsOn, want) {
		t.Errorf("depends_on = %v, want %v", n.DependsOn, want)
	}
}

func TestMacroRefIsADependency(t *testing.T) {
	m := build(t, map[string]string{
		"macros/m.sql": `{{ define "from_a" }}select * from {{ ref "a" }}{{ end }}`,
		"models/a.sql": "select 1 as id",
		"models/c.sql": `{{ include "from_a" }}`,
	})
	n, _ := m.Lookup("c")
	if !reflect.DeepEqual(n.DependsOn, []string{"model.p.a"}) || !reflect.DeepEqual(n.Macros, []string{"from_a"}) {
		t.Errorf("depends_on = %v, macros = %v", n.DependsOn, n.Macros)
	}
}
