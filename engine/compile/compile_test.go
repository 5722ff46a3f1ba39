package compile

import (
	"testing"
	"testing/fstest"

	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/project"
)

// compilerFor loads and builds the project in fsys and returns its
// manifest and a compiler for it (with the project's vars, no environment);
// any problem fails the test.
func compilerFor(t *testing.T, fsys fstest.MapFS) (*manifest.Manifest, *Compiler) {
	t.Helper()
	p, diags := project.Load(fsys)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m, diags := manifest.Build(p, manifest.Target{Name: "dev", Type: "local", Schema: "s"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return m, &Compiler{M: m, Vars: p.Vars, LookupEnv: func(string) (string, bool) { return "", false }}
}

func compileModel(t *testing.T, files map[string]string, model string) string {
	t.Helper()
	fsys := fstest.MapFS{"project.yaml": {Data: []byte("name: p\n")}}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	m, c := compilerFor(t, fsys)
	n, ok := m.Lookup(model)
	if !ok {
		t.Fatalf("no model %s", model)
	}
	res, err := c.Node(n, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res.SQL
}

// TestEphemeral: ephemeral models are inlined as CTEs, chains of them in
// dependency order, merged into a WITH (or WITH RECURSIVE) the model has.
func TestEphemeral(t *testing.T) {
	eph := func(sql string) string { return `{{ config "materialized" "ephemeral" }}` + sql }
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{
			name:  "one ephemeral",
			files: map[string]string{"models/e.sql": eph("select 1 as id;\n"), "models/m.sql": `select * from {{ ref "e" }}`},
			want:  "with \"__strata_ephemeral_e\" as (\nselect 1 as id\n)\nselect * from \"__strata_ephemeral_e\"",
		},
		{
			name: "a chain: e2 refs e1, both inlined, e1 first",
			files: map[string]string{"models/e1.sql": eph("select 1 as id"), "models/e2.sql": eph(`select * from {{ ref "e1" }}`),
				"models/m.sql": `select * from {{ ref "e2" }}`},
			want: "with \"__strata_ephemeral_e1\" as (\nselect 1 as id\n),\n\"__strata_ephemeral_e2\" as (\nselect * from \"__strata_ephemeral_e1\"\n)\nselect * from \"__strata_ephemeral_e2\"",
		},
		{
			name:  "merged into an existing WITH",
			files: map[string]string{"models/e.sql": eph("select 1 as id"), "models/m.sql": "-- note\nWITH x as (select * from {{ ref \"e\" }}) select * from x"},
			want:  "-- note\nwith \"__strata_ephemeral_e\" as (\nselect 1 as id\n),\n x as (select * from \"__strata_ephemeral_e\") select * from x",
		},
		{
			name:  "merged into WITH RECURSIVE",
			files: map[string]string{"models/e.sql": eph("select 1 as id"), "models/m.sql": "with recursive r(n) as (select id from {{ ref \"e\" }} union all select n+1 from r where n < 3) select * from r"},
			want:  "with recursive \"__strata_ephemeral_e\" as (\nselect 1 as id\n),\n r(n) as (select id from \"__strata_ephemeral_e\" union all select n+1 from r where n < 3) select * from r",
		},
		{
			name:  "an ephemeral ending in a semicolon and a comment",
			files: map[string]string{"models/e.sql": eph("select 1 as id; -- trailing comment\n"), "models/m.sql": `select * from {{ ref "e" }}`},
			want:  "with \"__strata_ephemeral_e\" as (\nselect 1 as id -- trailing comment\n)\nselect * from \"__strata_ephemeral_e\"",
		},
		{
			name:  "files starting with a UTF-8 BOM",
			files: map[string]string{"models/e.sql": "\ufeff" + eph("select 1 as id"), "models/m.sql": "\ufeffwith x as (select * from {{ ref \"e\" }}) select * from x"},
			want:  "with \"__strata_ephemeral_e\" as (\nselect 1 as id\n),\n x as (select * from \"__strata_ephemeral_e\") select * from x",
		},
		{
			name:  "a table is referenced, not inlined",
			files: map[string]string{"models/t.sql": "select 1", "models/m.sql": `select * from {{ ref "t" }}`},
			want:  `select * from "s"."t"`,
		},
		{
			name:  "the same ephemeral twice is inlined once",
			files: map[string]string{"models/e.sql": eph("select 1 as id"), "models/m.sql": `select * from {{ ref "e" }} a join {{ ref "e" }} b using (id)`},
			want:  "with \"__strata_ephemeral_e\" as (\nselect 1 as id\n)\nselect * from \"__strata_ephemeral_e\" a join \"__strata_ephemeral_e\" b using (id)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := compileModel(t, tc.files, "m"); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// TestVarsRenderAsWritten: vars from project.yaml render as the user wrote
// them (dbt's way), not as Go formats a time.Time, a float, nil or a map; a
// float var still compares and computes as a number.
func TestVarsRenderAsWritten(t *testing.T) {
	fsys := fstest.MapFS{
		"project.yaml": {Data: []byte("name: p\nvars:\n  d: 2024-01-01\n  f: 1.0\n  z: null\n  m: {a: 1, d: 2024-01-02}\n  l: [x, 2.50]\n")},
		"models/m.sql": {Data: []byte(`select {{ var "d" }} | {{ var "f" }} | {{ var "z" }} | {{ var "m" }} | {{ var "l" }} | {{ (var "m").d }} | {{ addf (var "f") 1 }} | {{ var "d" | literal }} | {{ if gt (var "f") 0.5 }}gt{{ end }} {{ if eq (var "f") 1.0 }}eq{{ end }}`)},
	}
	m, c := compilerFor(t, fsys)
	n, _ := m.Lookup("m")
	res, err := c.Node(n, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `select 2024-01-01 | 1.0 |  | {"a":1,"d":"2024-01-02"} | ["x",2.5] | 2024-01-02 | 2 | '2024-01-01' | gt eq`
	if res.SQL != want {
		t.Errorf("got  %s\nwant %s", res.SQL, want)
	}
}

// TestCheckHooks: a model's hooks are rendered as a run renders them, and an
// error in one is placed where the hook is configured.
func TestCheckHooks(t *testing.T) {
	fsys := fstest.MapFS{
		"project.yaml":  {Data: []byte("name: p\n")},
		"models/ok.sql": {Data: []byte(`{{ config "pre_hook" "delete from {{ this }}" "post_hook" (list "analyze {{ this }}" "select * from {{ ref \"ok\" }}") }}select 1`)},
		"models/bad.sql": {Data: []byte("-- a hook that refers to nothing\n" +
			`{{ config "post_hook" (list "select 1" "select * from {{ ref \"nope\" }}") }}select 1`)},
		"models/uni.sql": {Data: []byte(`{{ config "post_hook" (list "select 'é', {{ var \"nope\" }}" "select {{ if }}") }}select 1`)},
	}
	m, c := compilerFor(t, fsys)
	tests := []struct{ model, want string }{
		{"ok", ""},
		{"bad", `models/bad.sql:2:4: post_hook 2 of model bad: ref "nope": no model or seed is called "nope" (did you mean "ok"?) (at 1:18 of the hook)`},
		// columns in characters, and a column for a parse error
		{"uni", `models/uni.sql:1:4: post_hook 1 of model uni: var "nope" is not defined (set it under vars: in project.yaml, pass --vars, or give a default: var "nope" <default>) (at 1:16 of the hook)` + "\n" +
			`models/uni.sql:1:4: post_hook 2 of model uni: missing value for if (at 1:8 of the hook)`},
	}
	for _, tc := range tests {
		n, _ := m.Lookup(tc.model)
		if got := c.CheckHooks(n); got.Error() != tc.want {
			t.Errorf("%s: got %q, want %q", tc.model, got.Error(), tc.want)
		}
	}
}

// TestHasSQL: a model or singular test that renders only whitespace,
// comments and semicolons has no SQL; anything else, even in quotes, has.
func TestHasSQL(t *testing.T) {
	tests := []struct {
		sql  string
		want bool
	}{
		{"", false},
		{" \n\t\r\n", false},
		{"-- a comment", false},
		{"-- a comment\r\n/* and\nanother */\n", false},
		{";\n", false},
		{"/* unclosed", false},
		{"select 1", true},
		{"-- x\nselect 1;", true},
		{"';'", true},
		{"/* é */ värde", true},
	}
	for _, tt := range tests {
		if got := HasSQL(tt.sql); got != tt.want {
			t.Errorf("HasSQL(%q) = %v, want %v", tt.sql, got, tt.want)
		}
	}
}

// TestEmptyRender: a model or singular test that renders no SQL is an
// error at its file, whether the file is empty or its template writes
// nothing under the vars given; an ephemeral model that renders nothing is
// reported at its own file, also where it is inlined.
func TestEmptyRender(t *testing.T) {
	fsys := fstest.MapFS{
		"project.yaml":      {Data: []byte("name: p\nvars:\n  on: false\n")},
		"models/blank.sql":  {Data: []byte("\n-- nothing yet\n")},
		"models/cond.sql":   {Data: []byte(`{{ if var "on" }}select 1{{ end }}`)},
		"models/eph.sql":    {Data: []byte(`{{ config "materialized" "ephemeral" }}`)},
		"models/child.sql":  {Data: []byte(`select * from {{ ref "eph" }}`)},
		"tests/nothing.sql": {Data: []byte("/* later */")},
	}
	m, c := compilerFor(t, fsys)
	for _, tt := range []struct{ node, want string }{
		{"blank", "models/blank.sql:1:1: model blank renders no SQL (only whitespace or comments): a model is one select statement"},
		{"cond", "models/cond.sql:1:1: model cond renders no SQL (only whitespace or comments) with the vars it reads (on): a model is one select statement"},
		{"child", "models/child.sql:1:18: models/eph.sql:1:1: model eph renders no SQL (only whitespace or comments): a model is one select statement"},
	} {
		n, _ := m.Lookup(tt.node)
		_, err := c.Node(n, Options{})
		var diags diag.List
		diags.Add(n.Pos, err)
		if got := diags.Error(); got != tt.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.node, got, tt.want)
		}
	}
	n := m.Nodes["test.p.nothing"]
	if _, err := c.Node(n, Options{}); err == nil || err.Error() != "tests/nothing.sql:1:1: singular test nothing renders no SQL (only whitespace or comments): it must be a select that returns the failing rows" {
		t.Errorf("singular test: %v", err)
	}
	c.Vars = map[string]any{"on": true}
	n, _ = m.Lookup("cond")
	if _, err := c.Node(n, Options{}); err != nil {
		t.Errorf("cond with on: true: %v", err)
	}
}
