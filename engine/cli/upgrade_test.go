package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestRetryOfARunAnOlderStrataRecorded: a strata from before retry reused
// the last run's flags wrote target/run_results.json with no args (null)
// and no target/runs/. After an upgrade (or a run of the older strata in
// between), retry of such a run
//   - ran it without its --vars, without a word, though retry is said to
//     reuse them: it now says that the record has none and how to give
//     them;
//   - took target/runs/'s record of the newer strata's earlier run for the
//     last run, when there was one: 'Nothing to retry' after a failed
//     build, or that earlier run repeated. The older strata's run is the
//     last one (each run rewrites run_results.json), with --target too.
func TestRetryOfARunAnOlderStrataRecorded(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: up\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql": "select 1 as id",
		"models/b.sql": `select id from {{ ref "a" }} where 1 / {{ var "d" 1 }} = 1`,
		"models/c.sql": `select id from {{ ref "b" }}`,
	})
	target := filepath.Join(dir, "target")
	read := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join(target, p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// A build of this strata that passed, recorded in target/runs/t.
	must(t, 0, dir, "build")
	place := filepath.Join("runs", "t", "run_results.json")
	passed := read(place)
	// Then a build --vars of an older strata that failed: its
	// run_results.json has args null and no run_id; target/runs/ is left
	// as the build before wrote it.
	must(t, 1, dir, "build", "--vars", "d: 0")
	var rr map[string]any
	if err := json.Unmarshal(read("run_results.json"), &rr); err != nil {
		t.Fatal(err)
	}
	rr["args"] = nil
	delete(rr, "run_id")
	older, err := json.Marshal(rr)
	if err != nil {
		t.Fatal(err)
	}
	asOlder := func() {
		writeFile(t, dir, "target/run_results.json", string(older))
		writeFile(t, dir, "target/"+filepath.ToSlash(place), string(passed))
		if err := os.RemoveAll(filepath.Join(target, "run_progress.jsonl")); err != nil {
			t.Fatal(err)
		}
	}
	note := "was recorded by an older strata, which did not record the flags it was given: retry runs it without them. If it had --vars, --full-refresh, --full-refresh-scd2, --no-defer, --audit or --no-audit, give them to retry"

	for _, args := range [][]string{{"retry", "--vars", "d: 0"}, {"retry", "--target", "t", "--vars", "d: 0"}} {
		asOlder()
		out := must(t, 1, dir, args...)
		mustContain(t, out, "Note: the last run (strata build, started ", note, "Running 2 nodes", "division by zero")
		if strings.Contains(out, "OK created") {
			t.Errorf("%s built a model:\n%s", strings.Join(args, " "), out)
		}
	}
	// Without the flags, it runs without them, as it says.
	asOlder()
	mustContain(t, must(t, 0, dir, "retry"), note, "Running 2 nodes", "OK created table model public.c")
}
