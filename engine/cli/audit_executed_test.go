package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// The executed SQL of a test that audits a model lists each statement as
// often as it ran: a test counted after another test of the audit errored
// is counted once, not once per attempt of the batch.
func TestAuditExecutedOnce(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: ae\nmodels: {'.': {materialized: table}}\n",
		"models/m.sql": "select 1 as id, 'a' as v\n",
		"models/m.yml": `models:
  - name: m
    columns:
      - {name: nope, tests: [{accepted_values: {name: a_err, values: [x]}}]}
      - {name: v, tests: [{accepted_values: {name: b_ok, values: [a]}}]}
`,
	})
	strata(t, dir, "build")
	for _, r := range runResultsOf(t, dir) {
		if r.ID != "test.ae.b_ok" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, r.Executed))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "strata_failures"); n != 1 {
			t.Errorf("b_ok's executed SQL counts its failures %d times:\n%s", n, b)
		}
		return
	}
	t.Fatal("no result for b_ok")
}
