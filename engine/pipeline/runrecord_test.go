package pipeline

import (
	"os"
	"path/filepath"
	"testing"
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
