package manifest

import (
	"strings"
	"testing"
	"testing/fstest"

	"strata/engine/project"
)

// buildDiags loads and builds a project and returns every diagnostic, rendered.
func buildDiags(t *testing.T, files map[string]string) []string {
	t.Helper()
	_, diags := buildWithDiags(t, files)
	out := make([]string, len(diags))
	for i, d := range diags {
		out[i] = d.Error()
	}
	return out
}

var (
	a70  = strings.Repeat("a", 70)
	k60  = strings.Repeat("k", 60)
	s70  = strings.Repeat("s", 70)
	sel1 = "select 1"
)

// Two nodes may not build one relation, names PostgreSQL would cut are
// refused, and strata's own suffixes are reserved. Every problem is reported.
func TestBuildChecksRelations(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string // exactly the diagnostics
	}{
		{
			name: "an alias builds a seed's relation",
			files: map[string]string{"seeds/parents.csv": "id\n1\n",
				"models/m.sql": `{{ config "alias" "parents" "materialized" "table" }}select 1`},
			want: []string{`models/m.sql:1:4: model m (models/m.sql) and seed parents (seeds/parents.csv) both build the relation "tgt"."parents" (expected each model and seed to build its own: set a different alias or schema)`},
		},
		{
			name: "schema and alias together; every clash is reported",
			files: map[string]string{"models/a.sql": sel1,
				"models/b.sql": `{{ config "schema" "tgt" "alias" "a" }}select 1`,
				"models/c.sql": `{{ config "alias" "a" }}select 1`},
			want: []string{
				`models/b.sql:1:4: model a (models/a.sql) and model b (models/b.sql) both build the relation "tgt"."a" (expected each model and seed to build its own: set a different alias or schema)`,
				`models/c.sql:1:4: model a (models/a.sql) and model c (models/c.sql) both build the relation "tgt"."a" (expected each model and seed to build its own: set a different alias or schema)`,
			},
		},
		{
			name: "same name in another schema is no clash; ephemeral and disabled models build nothing",
			files: map[string]string{"models/a.sql": sel1,
				"models/b.sql": `{{ config "schema" "other" "alias" "a" }}select 1`,
				"models/c.sql": `{{ config "alias" "a" "materialized" "ephemeral" }}select 1`,
				"models/d.sql": `{{ config "alias" "a" "enabled" false }}select 1`},
		},
		{
			name:  "names that share their first 63 bytes",
			files: map[string]string{"models/" + a70 + ".sql": sel1, "models/" + a70 + "b.sql": sel1},
			want: []string{
				`models/` + a70 + `.sql:1:1: model ` + a70 + `: relation name "` + a70 + `" is 70 bytes, longer than PostgreSQL's 63 (expected a shorter file name or alias)`,
				`models/` + a70 + `b.sql:1:1: model ` + a70 + ` (models/` + a70 + `.sql) and model ` + a70 + `b (models/` + a70 + `b.sql) both build the relation "tgt"."` + a70[:63] + `" (expected each model and seed to build its own: set a different alias or schema)`,
				`models/` + a70 + `b.sql:1:1: model ` + a70 + `b: relation name "` + a70 + `b" is 71 bytes, longer than PostgreSQL's 63 (expected a shorter file name or alias)`,
			},
		},
		{
			name:  "a long alias and a long schema",
			files: map[string]string{"models/m.sql": `{{ config "alias" "` + a70 + `" "schema" "` + s70 + `" }}select 1`},
			want: []string{
				`models/m.sql:1:4: model m: relation name "` + a70 + `" is 70 bytes, longer than PostgreSQL's 63 (expected a shorter file name or alias)`,
				`models/m.sql:1:4: model m: schema name "` + s70 + `" is 70 bytes, longer than PostgreSQL's 63 (expected a shorter schema or schema_prefix)`,
			},
		},
		{
			name:  "a long ephemeral model builds nothing",
			files: map[string]string{"models/" + a70 + ".sql": `{{ config "materialized" "ephemeral" }}select 1`},
		},
		{
			name:  "strata's suffixes are reserved, for seeds too",
			files: map[string]string{"models/x__strata_new.sql": sel1, "seeds/y__strata_stage.csv": "id\n1\n"},
			want: []string{
				`models/x__strata_new.sql:1:1: model x__strata_new: relation name "x__strata_new" contains "__strata_", which strata reserves for its own relations (expected another file name or alias)`,
				`seeds/y__strata_stage.csv: seed y__strata_stage: relation name "y__strata_stage" contains "__strata_", which strata reserves for its own relations (expected another file name or alias)`,
			},
		},
		{
			name:  "a reserved alias",
			files: map[string]string{"models/m.sql": `{{ config "alias" "m__strata_old" }}select 1`},
			want:  []string{`models/m.sql:1:4: model m: relation name "m__strata_old" contains "__strata_", which strata reserves for its own relations (expected another file name or alias)`},
		},
		{
			name:  "an scd2 model whose default surrogate key is too long",
			files: map[string]string{"models/" + k60 + ".sql": `{{ config "materialized" "scd2" "unique_key" "id" "updated_at" "u" }}select 1`},
			want:  []string{`models/` + k60 + `.sql:1:1: model ` + k60 + `: its scd2 surrogate key column "` + k60 + `_key" is 64 bytes, longer than PostgreSQL's 63 (name it with scd2_columns: {surrogate_key: ...})`},
		},
		{
			name: "an scd2 model with its surrogate key named",
			files: map[string]string{"models/" + k60 + ".sql": `{{ config "materialized" "scd2" "unique_key" "id" "updated_at" "u" }}select 1`,
				"models/k.yml": "models:\n  - name: " + k60 + "\n    config: {scd2_columns: {surrogate_key: sk}}\n"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := buildDiags(t, c.files)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// A test's name is its file under target/compiled: a name: that is no file
// name of its own is refused, and a name derived from a column is made one.
func TestTestNamesAreFileNames(t *testing.T) {
	bad := []struct {
		name, yml, want string
	}{
		{"path traversal", `name: "../../../../escaped"`,
			`models/m.yml:4:46: test name "../../../../escaped" is not a file name (expected no /, \, NUL, and not . or ..)`},
		{"empty", `name: ""`, `models/m.yml:4:46: test name is empty (expected a name for the test's file)`},
		{"backslash", `name: 'a\b'`, `models/m.yml:4:46: test name "a\\b" is not a file name (expected no /, \, NUL, and not . or ..)`},
		{"dot dot", `name: ".."`, `models/m.yml:4:46: test name ".." is not a file name (expected no /, \, NUL, and not . or ..)`},
		{"NUL", `name: "a\0b"`, `models/m.yml:4:46: test name "a\x00b" is not a file name (expected no /, \, NUL, and not . or ..)`},
		{"too long", `name: "` + strings.Repeat("a", 201) + `"`, `models/m.yml:4:46: test name is 201 bytes long (expected at most 200, so that its file name fits)`},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			yml := "models:\n  - name: m\n    columns:\n      - {name: id, tests: [{not_null: {" + c.yml + "}}]}\n"
			got := buildDiags(t, map[string]string{"models/m.sql": sel1, "models/m.yml": yml})
			if strings.Join(got, "\n") != c.want {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), c.want)
			}
		})
	}

	yml := "models:\n  - name: m\n    columns:\n      - {name: \"x/../../../colescape\", tests: [not_null]}\n      - {name: \"Prénom\", tests: [unique]}\n"
	m := build(t, map[string]string{"models/m.sql": sel1, "models/m.yml": yml})
	for _, id := range []string{"test.p.not_null_m_x__________colescape", "test.p.unique_m_Pr_nom"} {
		if _, ok := m.Nodes[id]; !ok {
			t.Errorf("no test %s among %v", id, m.Sorted())
		}
	}
	// Derived from long names: cut to fit, kept apart by a hash. (A
	// column's name fits PostgreSQL's 63 bytes; a custom test's kind is
	// longer.)
	long := strings.Repeat("c", 62)
	kind := strings.Repeat("k", 150)
	yml = "models:\n  - name: m\n    columns:\n      - {name: " + long + "1, tests: [" + kind + "]}\n      - {name: " + long + "2, tests: [" + kind + "]}\n"
	m = build(t, map[string]string{"models/m.sql": sel1, "models/m.yml": yml,
		"macros/t.sql": `{{ define "test_` + kind + `" }}select * from {{ .relation }} where {{ ident .column }} is null{{ end }}`})
	var names []string
	for _, n := range m.Nodes {
		if n.Kind == Test {
			names = append(names, n.Name)
		}
	}
	if len(names) != 2 || names[0] == names[1] || len(names[0]) != maxTestName || len(names[1]) != maxTestName {
		t.Errorf("tests of two long columns: %q, want two names of at most %d bytes", names, maxTestName)
	}
}

// A model and a seed of one name are reported once, by the loader.
func TestSameNameIsNoSecondClash(t *testing.T) {
	fsys := fstest.MapFS{"project.yaml": {Data: []byte("name: p\n")},
		"models/x.sql": {Data: []byte(sel1)}, "seeds/x.csv": {Data: []byte("id\n1\n")}}
	p, _ := project.Load(fsys)
	if _, diags := Build(p, Target{Name: "dev", Type: "local", Schema: "tgt"}); len(diags) != 0 {
		t.Errorf("Build: %v", diags)
	}
}
