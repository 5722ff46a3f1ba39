package cli

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/internal/pgtest"
)

// TestEmptyNeverReplacesData: --empty builds nothing; it checks the
// selection as strata check does, so that tables, incremental models and
// views that hold data stay as they were (the same relations, the same
// rows), and a broken model fails it with its place.
func TestEmptyNeverReplacesData(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: em\n",
		"seeds/s.csv":       "id\n1\n2\n",
		"models/a.sql":      "select g as id from generate_series(1, 10) g",
		"models/b.sql":      `select * from {{ ref "a" }}`,
		"models/c.sql":      `select id from {{ ref "s" }}`,
		"models/schema.yml": "models:\n  - name: a\n    config: {materialized: table}\n  - name: b\n    config: {materialized: incremental}\n",
	})
	must(t, 0, dir, "build")
	before := userRelations(t, url)
	count := "select (select count(*) from public.a) + (select count(*) from public.b) + (select count(*) from public.c) + (select count(*) from public.s)"
	for _, args := range [][]string{{"build", "--empty"}, {"run", "--empty"}, {"seed", "--empty"}} {
		out := must(t, 0, dir, args...)
		mustContain(t, out, "--empty: nothing is built;", "everything was rolled back")
		if got := queryInt(t, url, count); got != 24 {
			t.Errorf("%v: the relations hold %d rows, want the 24 built", args, got)
		}
		if after := userRelations(t, url); after != before {
			t.Errorf("%v changed the database:\nbefore:\n%s\nafter:\n%s", args, before, after)
		}
	}
	writeFile(t, dir, "models/a.sql", "select g as id,\n  nosuch from generate_series(1, 10) g")
	out := must(t, 1, dir, "run", "--empty")
	mustContain(t, out, `models/a.sql:2:3: column "nosuch" does not exist`, "models/b.sql: model b not checked: parent a failed")
	if got := queryInt(t, url, count); got != 24 {
		t.Errorf("a failed --empty left %d rows, want 24", got)
	}
}

// TestBuildCheckRefuses: build --check checks the selection first and,
// when PostgreSQL rejects any of it, builds nothing.
func TestBuildCheckRefuses(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: bc\non-run-start: ['create table hook_ran (x int)']\n",
		"seeds/s.csv":    "id\n1\n",
		"models/ok.sql":  `select id from {{ ref "s" }}`,
		"models/bad.sql": "select id,\n  id + true as nope from {{ ref \"s\" }}",
	})
	before := userRelations(t, url)
	out := must(t, 1, dir, "build", "--check")
	mustContain(t, out, "Checking the 3 selected nodes first (--check)", "models/bad.sql:2:6: operator does not exist: bigint + boolean",
		"strata build: nothing was built: the check above failed (--check)")
	if after := userRelations(t, url); after != before {
		t.Errorf("a refused build changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	writeFile(t, dir, "models/bad.sql", "select id from {{ ref \"s\" }}")
	out = must(t, 0, dir, "build", "--check")
	mustContain(t, out, "OK=3 ERROR=0", "PASS=3")
	if got := queryInt(t, url, "select count(*) from public.ok"); got != 1 {
		t.Errorf("ok has %d rows after build --check, want 1", got)
	}
}

// TestEmptyLeavesUnitTestsOut: --empty checks what check proves and says
// that it does not run the unit tests, rather than counting them among
// the nodes it checks ("the 2 selected nodes are checked", then "Checked
// 1 model").
func TestEmptyLeavesUnitTestsOut(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":    "name: em\n",
		"models/a.sql":    "select 1 as id",
		"models/unit.yml": "unit_tests:\n  - {name: u, model: a, given: [], expect: {rows: [{id: 2}]}}\n",
	})
	out := must(t, 0, dir, "build", "--empty")
	mustContain(t, out, "--empty: nothing is built; the 1 selected node is checked against target t in a transaction that is rolled back (strata check); the 1 unit test is not run (strata test -s test_type:unit runs them)\n",
		"Checked 1 model on target t")
	// Only unit tests: nothing to check, said as strata check says it,
	// rather than "the 0 selected nodes are checked" and "Checked 0
	// nodes"; exit 0, the tests skipped in junit.xml.
	for _, args := range [][]string{{"test", "--empty"}, {"build", "--empty", "-s", "test_type:unit"}} {
		out = must(t, 0, dir, args...)
		mustContain(t, out, "Nothing to do: --empty builds nothing, and the selection holds nothing to check: the 1 selected unit test is not run (strata test -s test_type:unit runs them)\n")
		if strings.Contains(out, "0 selected nodes") || strings.Contains(out, "Checked 0") {
			t.Errorf("strata %s counts the nodes it checks when there are none:\n%s", strings.Join(args, " "), out)
		}
		junit, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, string(junit), `tests="1"`, `skipped="1"`, `failures="0"`)
	}
	out = must(t, 0, dir, "check", "-s", "test_type:unit")
	mustContain(t, out, "Nothing to check: the 1 selected unit test is not run by check")
}

// TestBuildCheckCountsWhatItChecks: build --check counts the nodes it
// checks, not the unit tests, which check does not run and the build runs
// before their models ("Checking the 87 selected nodes", then "Checked 82").
func TestBuildCheckCountsWhatItChecks(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":    "name: bu\n",
		"models/a.sql":    "select 1 as id",
		"models/b.sql":    `select id from {{ ref "a" }}`,
		"models/unit.yml": "unit_tests:\n  - {name: u, model: a, given: [], expect: {rows: [{id: 1}]}}\n  - {name: v, model: b, given: [{input: 'ref(\"a\")', rows: [{id: 1}]}], expect: {rows: [{id: 1}]}}\n",
	})
	out := must(t, 0, dir, "build", "--check")
	mustContain(t, out, "Checking the 2 selected nodes first (--check), in a transaction that is rolled back; the 2 selected unit tests are not checked: they run before the models they test\n",
		"Checked 2 models on target t", "PASS=4")
	out = must(t, 0, dir, "build", "--check", "-s", "a")
	mustContain(t, out, "Checking the 1 selected node first (--check), in a transaction that is rolled back; the 1 selected unit test is not checked: it runs before the model it tests\n")
	// Only unit tests: nothing to check first, and they run.
	out = must(t, 0, dir, "build", "--check", "-s", "test_type:unit")
	mustContain(t, out, "Nothing to check first (--check): the selection holds only 2 unit tests, which check does not prove: they run before the models they test\n", "PASS=2")
	if strings.Contains(out, "0 selected nodes") || strings.Contains(out, "Checked 0") {
		t.Errorf("build --check counts the nodes it checks when there are none:\n%s", out)
	}
}

// build --empty returned before any run was recorded, so target/junit.xml
// was still the last build's, its tests passed: CI read it as this run's.
// It is this run's: its tests skipped, the nodes the check refused failing
// in a suite '<project> check (--empty)'.
func TestEmptyWritesJUnit(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: ej\nmodels: {'.': {materialized: table}}\n",
		"models/b.sql": "select 1 as id",
		"models/b.yml": "models:\n  - name: b\n    columns: [{name: id, tests: [not_null]}]\n",
	})
	must(t, 0, dir, "build")
	if err := os.WriteFile(filepath.Join(dir, "models", "a.sql"), []byte("select nosuch as id"), 0o644); err != nil {
		t.Fatal(err)
	}
	must(t, 1, dir, "build", "--empty")
	b, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var junit artifacts.JUnit
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatal(err)
	}
	if junit.Failures != 1 || junit.Tests != 2 || junit.Skipped != 1 || len(junit.Suites) != 2 || junit.Suites[1].Name != "ej check (--empty)" ||
		len(junit.Suites[1].Cases) != 1 || junit.Suites[1].Cases[0].Failure == nil || !strings.Contains(junit.Suites[1].Cases[0].Failure.Message, "models/a.sql:1") {
		t.Errorf("junit.xml after build --empty whose check failed: want the test skipped and a failing case for models/a.sql:1 in 'ej check (--empty)':\n%s", b)
	}
}
