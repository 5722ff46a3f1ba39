package cli

import (
	"testing"

	"strata/engine/internal/pgtest"
)

// A model's leading lines (a config call, a comment, blank lines) stay in
// the compiled file, so the error must count them too, with and without --empty.
func TestSQLErrorLineCountsLeadingLines(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: p3\n",
		"models/t1.sql": "{{ config \"materialized\" \"table\" }}\n{{/* c */}}\n\n\nselect 1 as id,\n  nosuchcol as x\n",
	})
	for _, args := range [][]string{{"run"}, {"run", "--empty"}} {
		out := must(t, 1, dir, args...)
		mustContain(t, out, `models/t1.sql: column "nosuchcol" does not exist`, "(at line 6 of target/compiled/models/t1.sql)")
	}
}

// A data test's SQL error names the line: the compiled file's line for a
// singular test, and the declaration's line in the YAML file for a generic one.
func TestDataTestSQLErrorHasLine(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: p4\n",
		"seeds/codes.csv":  "code\na\n",
		"tests/sing.sql":   "-- comment\n\nselect *\nfrom {{ ref \"codes\" }}\nwhere nosuch = 1\n",
		"tests/stored.sql": "{{ config \"store_failures\" true \"limit\" 5 }}\n\nselect nosuch2 from {{ ref \"codes\" }}\n",
		"models/m.sql":     "select 1 as id",
		"models/m.yml": `models:
  - name: m
    columns:
      - name: id
        tests: [not_null]
      - name: gone
        tests:
          - not_null
`,
	})
	if code, out := strata(t, dir, "build", "--exclude", "sing"); code != 1 {
		t.Fatalf("build exited %d, want 1:\n%s", code, out)
	} else {
		mustContain(t, out, `models/m.yml:8: column "gone" does not exist`)
	}
	out := must(t, 1, dir, "test", "-s", "sing stored")
	mustContain(t, out, `tests/sing.sql: column "nosuch" does not exist`, "(at line 5 of target/compiled/tests/sing.sql)",
		`tests/stored.sql: column "nosuch2" does not exist`, "(at line 3 of target/compiled/tests/stored.sql)")
}
