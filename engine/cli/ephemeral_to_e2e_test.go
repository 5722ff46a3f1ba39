package cli

import (
	"testing"

	"strata/engine/internal/pgtest"
)

// TestTestsToAnEphemeralModelRun: relationships and equal_row_count whose
// to: is an ephemeral model run against it inlined (it has no relation),
// and still find the rows that break them.
func TestTestsToAnEphemeralModelRun(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: dq\n",
		"models/e.sql":  `{{ config "materialized" "ephemeral" }}select 1 as id union all select 2`,
		"models/m.sql":  `{{ config "materialized" "table" }}select 1 as id union all select 3`,
		"models/ok.sql": `select * from {{ ref "e" }}`,
		"models/m.yml": `models:
  - name: m
    tests:
      - equal_row_count: {to: e, name: pass_equal_row_count}
    columns:
      - name: id
        tests:
          - relationships: {to: e, field: id, name: fail_relationships}
  - name: ok
    columns:
      - name: id
        tests:
          - relationships: {to: e, field: id, name: pass_relationships}
`,
	})
	must(t, 1, dir, "build")
	res := results(t, dir)
	for name, want := range map[string]string{"pass_equal_row_count": "pass", "pass_relationships": "pass", "fail_relationships": "fail"} {
		if r := res[name]; r.Status != want {
			t.Errorf("%s: status %q (%s), want %s", name, r.Status, r.Message, want)
		}
	}
	if f := res["fail_relationships"].Failures; f == nil || *f != 1 {
		t.Errorf("fail_relationships: failures %v, want 1", deref(f))
	}
}
