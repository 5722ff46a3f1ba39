package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/internal/pgtest"
)

// firstLineRecord is an output that, as the first line is written to it,
// reads what target/run_results.json says then.
type firstLineRecord struct {
	mu   sync.Mutex
	dir  string
	out  bytes.Buffer
	seen bool
	rr   *artifacts.RunResults
	err  error
}

func (w *firstLineRecord) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.seen {
		w.seen = true
		w.rr, w.err = artifacts.ReadRunResults(filepath.Join(w.dir, "target", "run_results.json"))
	}
	return w.out.Write(p)
}

// TestRunRecordedBeforeFirstLine: a run is recorded as started (for retry)
// before it prints anything, so a run killed after any of its lines is
// taken up by retry. The warning that Citus keys are ignored on a server
// without Citus came first, and a run killed just after it left the last
// run's record: retry said "Nothing to retry" and the run was never built
// (TestKillBuildAtRandomPoints, when its kill landed after line 1).
func TestRunRecordedBeforeFirstLine(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: rec\n",
		"models/sales.sql":  "{{ config \"materialized\" \"table\" }}\nselect 1 as customer_id, 2 as amount",
		"models/models.yml": "models:\n  - name: sales\n    config: {distributed_by: customer_id}\n",
	})
	must(t, 0, dir, "build")
	w := &firstLineRecord{dir: dir}
	var errOut bytes.Buffer
	if code := Main(context.Background(), []string{"--project-dir", dir, "--no-color", "build"}, w, &errOut); code != 0 {
		t.Fatalf("build: exit %d\n%s%s", code, w.out.String(), errOut.String())
	}
	mustContain(t, w.out.String(), "but target ", "has no Citus extension")
	if w.err != nil {
		t.Fatal(w.err)
	}
	if !w.rr.InProgress {
		t.Fatalf("as the first line was printed, run_results.json held a run that had ended (the last run's), not this one in progress; output:\n%s", w.out.String())
	}
}
