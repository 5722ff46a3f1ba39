package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// not_null and unique are detected first with the cheapest aggregates
// (count(*) filter (where x is null), count(x) - count(distinct x)), the
// tests of one model in one scan when they audit it; the failing rows are
// counted and sampled only when a test fails, and the failure says what it
// always said.
func TestDataTestsDetectFirst(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: dq\nmodels:\n  '.': {materialized: table}\n",
		"models/ok.sql":  "select g as id, 'n' || g as name from generate_series(1, 10) as g",
		"models/bad.sql": "select * from (values (1, 'a'), (2, null), (2, 'b'), (3, 'c'), (3, 'd'), (null, 'e')) as v(id, name)",
		"models/schema.yml": `models:
  - name: ok
    columns:
      - {name: id, tests: [{not_null: {name: ok_id_not_null}}, {unique: {name: ok_id_unique}}]}
      - {name: name, tests: [{not_null: {name: ok_name_not_null}}]}
  - name: bad
    columns:
      - {name: id, tests: [{unique: {name: bad_id_unique, severity: warn}}, {not_null: {name: bad_id_not_null, severity: warn}}]}
      - {name: name, tests: [{not_null: {name: bad_name_not_null, severity: warn, config: {where: "id <> 2"}}}]}
`,
	})
	executed := func(id string) string {
		t.Helper()
		for _, r := range runResultsOf(t, dir) {
			if r.ID == id {
				b, err := os.ReadFile(filepath.Join(dir, r.Executed))
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
		}
		t.Fatalf("no result for %s", id)
		return ""
	}
	if code, out := strata(t, dir, "run"); code != 0 {
		t.Fatalf("run: %d\n%s", code, out)
	}
	code, out := strata(t, dir, "test", "--threads", "1")
	if code != 0 {
		t.Fatalf("test: %d\n%s", code, out)
	}
	rs := results(t, dir)
	for name, want := range map[string]int64{"ok_id_not_null": 0, "ok_id_unique": 0, "ok_name_not_null": 0, "bad_id_unique": 2, "bad_id_not_null": 1, "bad_name_not_null": 0} {
		r := rs[name]
		if r.Failures == nil || *r.Failures != want {
			t.Errorf("%s: failures %v, want %d (%s)", name, r.Failures, want, r.Message)
		}
	}
	if m := rs["bad_id_unique"].Message; !strings.Contains(m, `got 2 failing rows`) || !strings.Contains(m, `e.g. "2", "3"`) {
		t.Errorf("bad_id_unique: message %q lacks the count or the sample of duplicated values", m)
	}
	// A passing unique test reads the column once, sorted; it does not
	// group it. A failing one then counts the duplicated values.
	pass, fail := executed("test.dq.ok_id_unique"), executed("test.dq.bad_id_unique")
	if !strings.Contains(pass, `count("id") - count(distinct "id")`) || strings.Contains(pass, "group by") {
		t.Errorf("passing unique test ran:\n%s", pass)
	}
	if !strings.Contains(fail, `count(distinct "id")`) || !strings.Contains(fail, "group by") {
		t.Errorf("failing unique test ran:\n%s", fail)
	}
	if nn := executed("test.dq.ok_id_not_null"); strings.Contains(nn, "strata_failures") {
		t.Errorf("passing not_null test counted its rows again:\n%s", nn)
	}
	// In a build, the error-severity tests of ok audit it: the three in
	// one scan of its new version.
	if code, out := strata(t, dir, "build", "-s", "ok"); code != 0 {
		t.Fatalf("build: %d\n%s", code, out)
	}
	model := executed("model.dq.ok")
	one := `select count(*) filter (where "id" is null), count("id") - count(distinct "id"), count(*) filter (where "name" is null), extract(epoch from clock_timestamp())::text from "public"."ok__strata_new"`
	if !strings.Contains(model, one) || strings.Contains(model, "strata_failures") {
		t.Errorf("the audit of ok did not detect its three tests in one scan:\n%s", model)
	}
	rs = results(t, dir)
	for _, name := range []string{"ok_id_not_null", "ok_id_unique", "ok_name_not_null"} {
		if r := rs[name]; r.Status != "pass" {
			t.Errorf("%s in build: %s %s", name, r.Status, r.Message)
		}
	}
}
