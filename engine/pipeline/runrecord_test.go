package pipeline

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"strata/engine/artifacts"
	"strata/engine/run"
)

// A snapshot of the last run's record changes when either file does: a
// run in progress writes run_results.json once, at its start, and each
// node it finishes to run_progress.jsonl.
func TestRunRecordSnapshotSeesProgress(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(target, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("run_results.json", `{"command": "run", "started_at": "s", "in_progress": true, "results": [{"unique_id": "model.p.a", "status": "skipped"}, {"unique_id": "model.p.b", "status": "skipped"}]}`)
	write("run_progress.jsonl", `{"command": "run", "started_at": "s"}`+"\n")
	first, err := ReadRunRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	prev, err := first.LastRun()
	if err != nil {
		t.Fatal(err)
	}
	if len(prev.IDs) != 2 || !prev.InProgress {
		t.Fatalf("the run in progress has %v to retry (in progress %v), want a and b", prev.IDs, prev.InProgress)
	}
	write("run_progress.jsonl", `{"command": "run", "started_at": "s"}`+"\n"+`{"unique_id": "model.p.a", "status": "success"}`+"\n")
	second, err := ReadRunRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.Same(second) {
		t.Error("a node finished in between, and the snapshots are the same")
	}
	if prev, err = second.LastRun(); err != nil || len(prev.IDs) != 1 || prev.IDs[0] != "model.p.b" {
		t.Errorf("after a finished, retry would run %v (%v), want b", prev.IDs, err)
	}
	again, err := ReadRunRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Same(again) {
		t.Error("two reads of the same files differ")
	}
}

// TestKilledRunLeavesATruthfulRecord: a run that is killed has already
// replaced junit.xml with its own tests, not finished (a CI job killed
// mid-run must not upload the previous run's passing tests), and the nodes
// it finished reach node_results.json when the next run starts, while the
// nodes it did not finish keep their earlier results.
func TestKilledRunLeavesATruthfulRecord(t *testing.T) {
	l := load(t, fstest.MapFS{
		"project.yaml": file("name: p\n"),
		"models/a.sql": file("select 1 as id"),
		"models/b.sql": file(`select id from {{ ref "a" }}`),
		"models/m.yml": file("models:\n  - name: a\n    columns:\n      - name: id\n        tests: [unique]\n"),
	})
	unique := testOf(t, l, "unique", "a")
	day1 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if errs := l.WriteResults("build", day1, []run.Result{
		{ID: "model.p.a", Status: run.Success}, {ID: unique, Status: run.Pass}, {ID: "model.p.b", Status: run.Success},
	}); len(errs) > 0 {
		t.Fatal(errs)
	}
	rec, err := l.StartResults("build", day1.Add(24*time.Hour), nil, []string{"model.p.a", unique, "model.p.b"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(l.TargetDir(), "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var junit artifacts.JUnit
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatal(err)
	}
	if junit.Tests != 1 || junit.Skipped != 1 || len(junit.Suites) == 0 || len(junit.Suites[0].Cases) != 1 ||
		junit.Suites[0].Cases[0].Skipped == nil || junit.Suites[0].Cases[0].Skipped.Message != artifacts.NotFinished {
		t.Errorf("junit.xml of a run that has started is not its own, unfinished:\n%s", b)
	}
	rec.End(run.Result{ID: "model.p.a", Status: run.Error, Message: "boom"})
	rec.End(run.Result{ID: unique, Status: run.Pass})
	rec.Close() // killed: no end

	// What docs/artifacts.md says of a killed run: run_results.json with
	// its progress file has what it finished; junit.xml and
	// node_results.json are complete only after a run that ended.
	rr, err := artifacts.ReadRunResults(filepath.Join(l.TargetDir(), "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	finished := map[string]string{}
	for _, r := range rr.Results {
		finished[r.ID] = r.Status
	}
	if finished["model.p.a"] != "error" || finished[unique] != "pass" || finished["model.p.b"] != "skipped" {
		t.Errorf("run_results.json with its progress after the kill: %v", finished)
	}
	if b, err := os.ReadFile(filepath.Join(l.TargetDir(), "junit.xml")); err != nil || !strings.Contains(string(b), artifacts.NotFinished) {
		t.Errorf("junit.xml after the kill is not the run's as it started (every test not finished): %v\n%s", err, b)
	}
	if h, err := artifacts.ReadNodeResults(filepath.Join(l.TargetDir(), artifacts.NodeResultsFile)); err != nil || h.Results["model.p.a"] == nil || h.Results["model.p.a"].Status != "success" {
		t.Errorf("node_results.json after the kill, before the next run: %+v, %v", h, err)
	}

	if _, err := l.StartResults("run", day1.Add(48*time.Hour), nil, []string{"model.p.b"}); err != nil {
		t.Fatal(err)
	}
	h, err := artifacts.ReadNodeResults(filepath.Join(l.TargetDir(), artifacts.NodeResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if a := h.Results["model.p.a"]; a == nil || a.Status != "error" || a.Message != "boom" {
		t.Errorf("a's result from the killed run was lost: %+v", a)
	}
	if r := h.Results["model.p.b"]; r == nil || r.Status != "success" || r.RunStartedAt != day1.Format(time.RFC3339) {
		t.Errorf("b, which the killed run did not finish, lost its earlier result: %+v", r)
	}
	if r := h.Results[unique]; r == nil || r.Status != "pass" {
		t.Errorf("the test, which the killed run did not finish, lost its earlier result: %+v", r)
	}
}
