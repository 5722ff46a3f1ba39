package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"strata/engine/pgname"
	"strata/engine/project"
)

// load writes files as a project and loads it, failing on any problem.
func load(t *testing.T, files fstest.MapFS) *Project {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, files); err != nil {
		t.Fatal(err)
	}
	l, diags := Load(Options{Dir: dir, LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	return l
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }

// testOf is the id of the test of kind attached to model.
func testOf(t *testing.T, l *Project, kind, model string) string {
	t.Helper()
	for id, n := range l.Manifest.Nodes {
		if n.TestInfo != nil && n.TestInfo.Kind == kind && n.TestInfo.Attached == "model.p."+model {
			return id
		}
	}
	t.Fatalf("no %s test on %s", kind, model)
	return ""
}

// In build a model waits for the error-severity tests of its parents, but
// not for a warning, nor for a test that reads the model itself.
func TestScheduleBuildWaitsForParentsTests(t *testing.T) {
	l := load(t, fstest.MapFS{
		"project.yaml": file("name: p\n"),
		"models/a.sql": file("select 1 as id"),
		"models/b.sql": file(`select * from {{ ref "a" }}`),
		"models/a.yml": file(`models:
  - name: a
    columns:
      - name: id
        tests:
          - not_null
          - unique: {severity: warn}
          - relationships: {to: b, field: id}
`),
	})
	all, err := l.Select(Selection{})
	if err != nil {
		t.Fatal(err)
	}
	notNull, unique, rel := testOf(t, l, "not_null", "a"), testOf(t, l, "unique", "a"), testOf(t, l, "relationships", "a")
	cases := []struct {
		cmd  string
		node string
		want []string
	}{
		{"build", "model.p.b", []string{"model.p.a", notNull}},
		{"build", rel, []string{"model.p.a", "model.p.b"}},
		{"run", "model.p.b", []string{"model.p.a"}},
		{"test", rel, []string{"model.p.a", "model.p.b"}},
	}
	for _, c := range cases {
		s := l.Schedule(all, Kinds(c.cmd)...)
		got := append([]string(nil), s.Parents(c.node)...)
		sort.Strings(got)
		sort.Strings(c.want)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: parents of %s = %v, want %v", c.cmd, c.node, got, c.want)
		}
		if c.cmd == "build" && slices.Contains(got, unique) {
			t.Errorf("build: %s waits for the warn-severity test %s", c.node, unique)
		}
	}
	if got, want := l.Schedule(all, Kinds("run")...).Order, []string{"model.p.a", "model.p.b"}; !slices.Equal(got, want) {
		t.Errorf("run order = %v, want %v", got, want)
	}
}

// An ephemeral model is never run on its own; a full refresh finds the
// scd2 model it would rebuild.
func TestScheduleLeavesOutEphemeralAndFindsSCD2(t *testing.T) {
	l := load(t, fstest.MapFS{
		"project.yaml": file("name: p\n"),
		"models/e.sql": file(`{{ config "materialized" "ephemeral" }}select 1 as id`),
		"models/d.sql": file(`{{ config "materialized" "scd2" "unique_key" "id" "strategy" "check" "check_cols" "all" }}select * from {{ ref "e" }}`),
		"models/v.sql": file(`select * from {{ ref "e" }}`),
	})
	all, err := l.Select(Selection{})
	if err != nil {
		t.Fatal(err)
	}
	s := l.Schedule(all, Kinds("run")...)
	if want := []string{"model.p.d", "model.p.v"}; !slices.Equal(s.Order, want) {
		t.Errorf("order = %v, want %v", s.Order, want)
	}
	if n := l.SCD2(s.Order); len(n) != 1 || n[0].Name != "d" {
		t.Errorf("SCD2(%v) = %v, want model d", s.Order, n)
	}
	if n := l.SCD2([]string{"model.p.v"}); n != nil {
		t.Errorf("SCD2 of a view = %v, want none", n)
	}
}

// Retry's ids select exactly the nodes still in the project; a --state
// folder without a manifest is a StateError that names the folder.
func TestSelectIDsAndState(t *testing.T) {
	l := load(t, fstest.MapFS{
		"project.yaml": file("name: p\n"),
		"models/a.sql": file("select 1 as id"),
		"models/b.sql": file("select 2 as id"),
	})
	got, err := l.Select(Selection{Select: []string{"b"}, IDs: []string{"model.p.a", "model.p.gone"}})
	if err != nil || len(got) != 1 || !got["model.p.a"] {
		t.Errorf("Select(IDs) = %v, %v; want only model.p.a", got, err)
	}
	if got, err := l.Select(Selection{IDs: []string{}}); err != nil || len(got) != 0 {
		t.Errorf("Select(no IDs) = %v, %v; want nothing", got, err)
	}
	dir := t.TempDir()
	_, err = l.Select(Selection{Select: []string{"state:modified"}, State: dir})
	var se *StateError
	if !errors.As(err, &se) || se.Dir != dir || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Select with an empty --state folder: %v, want a StateError for %s", err, dir)
	}
	if want := "--state " + dir + ": cannot read the earlier manifest: no such file or directory"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	// A relative --state is read from the current folder, which the
	// message names, not from the project's folder.
	t.Chdir(dir)
	_, err = l.Select(Selection{Select: []string{"state:modified"}, State: "prod-state"})
	want := "--state prod-state: cannot read the earlier manifest: no such file or directory (looked for " + filepath.Join(dir, "prod-state", "manifest.json") + ": a relative --state is read from the current folder, not from --project-dir)"
	if err == nil || err.Error() != want {
		t.Errorf("relative --state: error = %v, want %q", err, want)
	}
}

func TestResolveTarget(t *testing.T) {
	two := map[string]*project.Target{
		"dev":  {Name: "dev", Type: "local"},
		"prod": {Name: "prod", Type: "postgres", Schema: "analytics", Threads: 8},
	}
	cases := []struct {
		name    string
		targets map[string]*project.Target
		chosen  string // project.yaml's target:
		flag    string
		env     string // STRATA_TARGET
		want    string // the target's name, or the error
	}{
		{"no targets: built-in dev", nil, "", "", "", "dev"},
		{"no targets, dev asked", nil, "", "dev", "", "dev"},
		{"no targets, other asked", nil, "", "prod", "", `project.yaml: target "prod" is not defined (project.yaml has no targets:)`},
		{"the only one", map[string]*project.Target{"x": {Name: "x", Type: "local"}}, "", "", "", "x"},
		{"several, none chosen", two, "", "", "", "project.yaml: no target chosen: set target: in project.yaml or pass --target (one of dev, prod)"},
		{"project.yaml's", two, "prod", "", "", "prod"},
		{"STRATA_TARGET over project.yaml", two, "prod", "", "dev", "dev"},
		{"--target over STRATA_TARGET", two, "dev", "prod", "dev", "prod"},
		{"unknown --target", two, "", "prd", "", `--target prd: target "prd" is not defined in project.yaml (expected one of dev, prod) (did you mean "prod"?)`},
		{"unknown STRATA_TARGET", two, "", "", "stage", `STRATA_TARGET stage: target "stage" is not defined in project.yaml (expected one of dev, prod)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &project.Project{Targets: c.targets, DefaultTarget: c.chosen}
			env := func(k string) (string, bool) {
				if k == "STRATA_TARGET" && c.env != "" {
					return c.env, true
				}
				return "", false
			}
			got, err := ResolveTarget(p, c.flag, nil, env)
			if err != nil {
				if err.Error() != c.want {
					t.Errorf("error = %q, want %q", err, c.want)
				}
				return
			}
			if got.Name != c.want {
				t.Fatalf("target = %s, want %s", got.Name, c.want)
			}
			if got.Schema == "" || got.Threads == 0 {
				t.Errorf("target %s has schema %q and %d threads, want the defaults filled in", got.Name, got.Schema, got.Threads)
			}
		})
	}
	// A target chosen in project.yaml that does not exist is reported by
	// the loader at its target: key, not here.
	if _, err := ResolveTarget(&project.Project{Targets: two, DefaultTarget: "nope"}, "", nil, os.LookupEnv); !errors.Is(err, errReported) {
		t.Errorf("unknown project.yaml target: error %v, want errReported", err)
	}
}

// A target's settings render with vars and the environment, and what they
// render to is what the manifest places relations in.
func TestLoadRendersTargetSettings(t *testing.T) {
	dir := t.TempDir()
	files := fstest.MapFS{
		"project.yaml": file(`name: p
vars: {env: qa}
target: t
targets:
  t: {type: postgres, url: 'postgres://{{ env_var "PGHOST_FOR_TEST" }}/db', schema: 'work_{{ var "env" }}', schema_prefix: 'x_'}
`),
		"models/a.sql": file("select 1 as id"),
	}
	if err := os.CopyFS(dir, files); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) {
		if k == "PGHOST_FOR_TEST" {
			return "db.example", true
		}
		return "", false
	}
	l, diags := Load(Options{Dir: dir, Vars: "env: prod", LookupEnv: env})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if l.Target.URL != "postgres://db.example/db" || l.Target.Schema != "work_prod" {
		t.Errorf("target url %q schema %q, want the rendered settings with --vars over project.yaml's", l.Target.URL, l.Target.Schema)
	}
	if got, want := l.Manifest.Nodes["model.p.a"].Relation, (pgname.Rel{Schema: "x_work_prod", Name: "a"}); got != want {
		t.Errorf("relation of a = %v, want %v", got, want)
	}
	if got, want := l.Compiled["model.p.a"].SQL, "select 1 as id"; got != want {
		t.Errorf("compiled a = %q, want %q", got, want)
	}
}

func TestSettingsURL(t *testing.T) {
	cases := []struct {
		t    project.Target
		want string
	}{
		{project.Target{URL: "postgres://u@h/d", Host: "ignored"}, "postgres://u@h/d"},
		{project.Target{Host: "h", Port: "5433", DBName: "d"}, "host='h' port='5433' dbname='d'"},
		{project.Target{User: "o'brien", Password: `a\b'c`}, `user='o\'brien' password='a\\b\'c'`},
		{project.Target{}, ""},
	}
	for _, c := range cases {
		if got := settingsURL(&c.t); got != c.want {
			t.Errorf("settingsURL(%+v) = %q, want %q", c.t, got, c.want)
		}
	}
}

// A model that reads an ephemeral model waits for what the ephemeral model
// reads, through a chain of them, in every command and in a selection that
// leaves the ephemeral models out (retry's); in build it also waits for the
// error-severity tests of those nodes.
func TestScheduleWaitsThroughEphemeralModels(t *testing.T) {
	l := load(t, fstest.MapFS{
		"project.yaml":  file("name: p\n"),
		"models/v.sql":  file("select 1 as id"),
		"models/e1.sql": file(`{{ config "materialized" "ephemeral" }}select * from {{ ref "v" }}`),
		"models/e2.sql": file(`{{ config "materialized" "ephemeral" }}select * from {{ ref "e1" }}`),
		"models/m.sql":  file(`select * from {{ ref "e2" }}`),
		"models/v.yml": file(`models:
  - name: v
    columns:
      - name: id
        tests: [not_null]
unit_tests:
  - {name: of_e1, model: e1, given: [], expect: {rows: []}}
  - {name: of_e2, model: e2, given: [], expect: {rows: []}}
  - {name: of_m, model: m, given: [], expect: {rows: []}}
`),
	})
	all, err := l.Select(Selection{})
	if err != nil {
		t.Fatal(err)
	}
	retried := map[string]bool{"model.p.v": true, "model.p.m": true}
	notNull := testOf(t, l, "not_null", "v")
	units := []string{"unit_test.p.e1.of_e1", "unit_test.p.e2.of_e2", "unit_test.p.m.of_m"}
	for _, c := range []struct {
		cmd      string
		selected map[string]bool
		want     []string
	}{
		{"run", all, []string{"model.p.v"}},
		{"run", retried, []string{"model.p.v"}},
		// The unit tests of the ephemeral models it inlines, as its own:
		// one that fails skips it.
		{"build", all, append([]string{"model.p.v", notNull}, units...)},
	} {
		s := l.Schedule(c.selected, Kinds(c.cmd)...)
		var waits []string
		for _, p := range s.Parents("model.p.m") {
			if slices.Contains(s.Order, p) {
				waits = append(waits, p)
			}
		}
		sort.Strings(waits)
		if !slices.Equal(waits, c.want) {
			t.Errorf("%s of %v: m waits for %v among %v, want %v", c.cmd, c.selected, waits, s.Order, c.want)
		}
	}
}

// A run that audits (build, run --audit) tests each model's new version
// with its error-severity tests that read nothing this run builds outside
// the model's upstream: not a warning, not a model with audit: false, not a
// relationships test to a model downstream; run --audit schedules them.
func TestAuditPicksTheTestsThatAuditEachModel(t *testing.T) {
	l := load(t, fstest.MapFS{
		"project.yaml":     file("name: p\n"),
		"models/a.sql":     file("select 1 as id"),
		"models/b.sql":     file(`select * from {{ ref "a" }}`),
		"models/loose.sql": file(`{{ config "audit" false }}select 1 as id`),
		"models/eph.sql":   file(`{{ config "materialized" "ephemeral" }}select 1 as id`),
		"seeds/s.csv":      file("id\n1\n"),
		"models/a.yml": file(`models:
  - name: a
    columns:
      - name: id
        tests:
          - not_null
          - unique: {severity: warn}
          - relationships: {to: b, field: id}
  - name: b
    columns:
      - name: id
        tests: [not_null, {relationships: {to: a, field: id}}]
  - name: loose
    columns: [{name: id, tests: [not_null]}]
seeds:
  - name: s
    columns: [{name: id, tests: [unique]}]
`),
	})
	all, err := l.Select(Selection{})
	if err != nil {
		t.Fatal(err)
	}
	s := l.Schedule(all, Kinds("build")...)
	l.Audit(s, all)
	want := map[string][]string{
		"model.p.a": {testOf(t, l, "not_null", "a")},
		"model.p.b": {testOf(t, l, "not_null", "b"), testOf(t, l, "relationships", "b")},
		"seed.p.s":  {"test.p.unique_s_id"},
	}
	for id, tests := range want {
		sort.Strings(tests)
		got := append([]string(nil), s.Audits[id]...)
		sort.Strings(got)
		if !slices.Equal(got, tests) {
			t.Errorf("%s is audited by %v, want %v", id, got, tests)
		}
	}
	if len(s.Audits) != len(want) {
		t.Errorf("audited: %v", s.Audits)
	}

	// run --audit: only models, with the tests that audit them; b is not
	// in the run, so a's test that reads it reads it as published.
	sel, err := l.Select(Selection{Select: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	r := l.Schedule(sel, Kinds("run")...)
	l.Audit(r, sel)
	if got, want := r.Order, []string{"model.p.a", testOf(t, l, "not_null", "a"), testOf(t, l, "relationships", "a")}; !slices.Equal(got, want) {
		t.Errorf("run --audit order = %v, want %v", got, want)
	}
}

// A url that renders empty (its environment variable unset or empty) is
// named in the connection's error, at its place in project.yaml, with the
// variable: not only `cannot connect to database ""`.
func TestConnectEmptyURLSaysWhy(t *testing.T) {
	t.Setenv("PGHOST", filepath.Join(t.TempDir(), "nosocket"))
	t.Setenv("PGPORT", "1")
	t.Setenv("PGSERVICE", "")
	t.Setenv("PGSERVICEFILE", filepath.Join(t.TempDir(), "none"))
	dir := t.TempDir()
	files := fstest.MapFS{
		"project.yaml": file(`name: p
target: prod
targets:
  prod:
    type: postgres
    url: '{{ env_var "DATABASE_URL" "" }}'
`),
		"models/a.sql": file("select 1 as id"),
	}
	if err := os.CopyFS(dir, files); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env  func(string) (string, bool)
		want string
	}{
		{func(string) (string, bool) { return "", false }, "DATABASE_URL is not set"},
		{func(k string) (string, bool) { return "", k == "DATABASE_URL" }, "DATABASE_URL is set but empty"},
	} {
		l, diags := Load(Options{Dir: dir, LookupEnv: c.env})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		db, err := l.Connect(context.Background(), 1)
		if err == nil {
			db.Close()
			t.Fatal("connected with an empty url")
		}
		want := `project.yaml:6:11: the url of target prod is empty: '{{ env_var "DATABASE_URL" "" }}' rendered to "" (` + c.want + `), so PostgreSQL's defaults were tried (set DATABASE_URL, or choose another target with --target): `
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error = %q\nwant it to start with %q", err, want)
		}
	}
}
