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

// TestJUnitPlacesEveryFailure: a node's error whose database error has no
// position in the SQL (a check constraint violated by an incremental
// model's merge, a division by zero in a test's query) is placed at the
// node's file in junit.xml, as on the console. junit.xml had the merge's
// bare message ('merge into "public"."inc" as t: new row for relation
// "inc" violates check constraint ...'), while the console line started
// with models/inc.sql:. run_results.json (and node_results.json) hold it
// placed in placed_message, with message as it was.
func TestJUnitPlacesEveryFailure(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: jp\nvars: {v: 1}\n",
		"models/inc.sql": `select 1 as id, 2 as k, {{ var "v" }} as v` + "\n",
		"models/inc.yml": "models:\n  - name: inc\n    config:\n      materialized: incremental\n      incremental_strategy: merge\n      unique_key: [id, k]\n      on_schema_change: append_new_columns\n      retries: 2\n",
		"tests/div.sql":  "select * from {{ ref \"inc\" }} where v / {{ var \"d\" 1 }} < 0\n",
	})
	must(t, 0, dir, "build")
	conn := connect(t, url)
	if _, err := conn.Exec(t.Context(), "alter table public.inc add constraint positive check (v > 0)"); err != nil {
		t.Fatal(err)
	}
	out := must(t, 1, dir, "build", "--vars", "v: -1")
	cases := []struct {
		suite, name, kind, want, id, bare string
	}{
		{"jp nodes", "inc", "model", `models/inc.sql: merge into "public"."inc" as t: new row for relation "inc" violates check constraint "positive"`, "model.jp.inc", `merge into "public"."inc" as t: `},
		{"jp data tests", "div", "error", "tests/div.sql: division by zero", "test.jp.div", "tests/div.sql: division by zero"},
	}
	// run_results.json's message is as it was (the merge's unplaced, the
	// test's placed already), placed_message as printed; node_results.json
	// has the same fields.
	inResults := func(i int) {
		t.Helper()
		c := cases[i]
		nr, err := artifacts.ReadNodeResults(filepath.Join(dir, "target", "node_results.json"))
		if err != nil {
			t.Fatal(err)
		}
		var latest artifacts.Result
		if n := nr.Results[c.id]; n != nil {
			latest = n.Result
		}
		for file, r := range map[string]artifacts.Result{"run_results.json": runResults(t, dir)[c.id], "node_results.json": latest} {
			if r.Status != "error" || !strings.HasPrefix(r.Message, c.bare) || !strings.HasPrefix(r.PlacedMessage, c.want) || !strings.HasSuffix(r.PlacedMessage, r.Message) {
				t.Errorf("%s: %s: %+v, want message %q... and placed_message %q...", file, c.id, r, c.bare, c.want)
			}
		}
	}
	// The build whose model failed skips its tests: the test's error comes
	// from a test of its own.
	mustContain(t, out, cases[0].want)
	inResults(0)
	b, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	first := must(t, 1, dir, "test", "--vars", "d: 0")
	mustContain(t, first, cases[1].want)
	inResults(1)
	tb, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		report := b
		if i == 1 {
			report = tb
		}
		var junit artifacts.JUnit
		if err := xml.Unmarshal(report, &junit); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, s := range junit.Suites {
			for _, tc := range s.Cases {
				if s.Name != c.suite || tc.Name != c.name {
					continue
				}
				found = true
				m := tc.Failure
				if m == nil {
					m = tc.Error
				}
				if m == nil || m.Type != c.kind || !strings.HasPrefix(m.Message, c.want) || !strings.HasPrefix(m.Text, c.want) {
					t.Errorf("junit.xml: %s %s: %+v, want a %s that starts with %q:\n%s", c.suite, c.name, m, c.kind, c.want, report)
				}
			}
		}
		if !found {
			t.Errorf("junit.xml has no case %s in suite %s:\n%s", c.name, c.suite, report)
		}
	}
}
