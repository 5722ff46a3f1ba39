package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/internal/pgtest"
)

// run_results.json's (and node_results.json's) relation_name is the
// relation quoted as manifest.json writes it, so a script can use it in SQL
// and join the files by it: unquoted, public.order (a reserved word) or
// public.My Model-x reads as other SQL than the relation.
func TestResultsRelationNameIsQuoted(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":          "name: q\nmodels:\n  .: {materialized: table}\n",
		"models/order.sql":      "select 1 as id union all select 1",
		"models/My Model-x.sql": `select id from {{ ref "order" }}`,
		"models/schema.yml":     "models:\n  - name: order\n    columns:\n      - name: id\n        tests:\n          - unique: {store_failures: true, severity: warn}\n",
		"seeds/Odd Seed.csv":    "a\n1\n",
	})
	if code, out := strata(t, dir, "build"); code != 0 {
		t.Fatalf("build exited %d:\n%s", code, out)
	}
	var man artifacts.Manifest
	readJSON(t, filepath.Join(dir, "target", "manifest.json"), &man)
	want := map[string]string{
		"model.q.order":          `"public"."order"`,
		"model.q.My Model-x":     `"public"."My Model-x"`,
		"seed.q.Odd Seed":        `"public"."Odd Seed"`,
		"test.q.unique_order_id": `"audit"."unique_order_id"`,
	}
	for _, file := range []string{"run_results.json", "node_results.json"} {
		var results []artifacts.Result
		if file == "run_results.json" {
			var rr artifacts.RunResults
			readJSON(t, filepath.Join(dir, "target", file), &rr)
			results = rr.Results
		} else {
			var nr artifacts.NodeResults
			readJSON(t, filepath.Join(dir, "target", file), &nr)
			for _, r := range nr.Results {
				results = append(results, r.Result)
			}
		}
		got := map[string]string{}
		for _, r := range results {
			got[r.ID] = r.Relation
		}
		for id, rel := range want {
			if got[id] != rel {
				t.Errorf("%s: %s has relation_name %q, want %q", file, id, got[id], rel)
			}
			if n := man.Nodes[id]; n != nil && n.Relation != "" && n.Relation != got[id] {
				t.Errorf("%s: %s has relation_name %q, manifest.json %q", file, id, got[id], n.Relation)
			}
		}
	}
	// What it names is what SQL reads.
	for _, rel := range want {
		queryInt(t, url, "select count(*) from "+rel)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
