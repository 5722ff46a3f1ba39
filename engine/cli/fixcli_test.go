package cli

import (
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// mustContain fails the test for each of wants that out lacks.
func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// A model's leading lines (a config call, a comment, blank lines) stay in
// the compiled file, so the error must count them too, with and without --empty.
func TestSQLErrorLineCountsLeadingLines(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: p3\n",
		"models/t1.sql": "{{ config \"materialized\" \"table\" }}\n{{/* c */}}\n\n\nselect 1 as id,\n  nosuchcol as x\n",
	})
	for _, args := range [][]string{{"run"}, {"run", "--empty"}} {
		code, out := strata(t, dir, args...)
		if code != 1 {
			t.Fatalf("%v exited %d, want 1:\n%s", args, code, out)
		}
		mustContain(t, out, `models/t1.sql: column "nosuchcol" does not exist`, "(at line 6 of target/compiled/models/t1.sql)")
	}
}
