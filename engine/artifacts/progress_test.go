package artifacts

import (
	"os"
	"path/filepath"
	"testing"
)

// TestProgress: a run recorded as it starts and node by node reads back
// as what it finished, whatever a kill cut short; another run's
// run_progress.jsonl is not read, nor one after the run ended.
func TestProgress(t *testing.T) {
	dir := t.TempDir()
	rr := &RunResults{Command: "build", StartedAt: "2025-01-02T03:04:05Z", Args: &RunArgs{Vars: "k: 2"},
		Results: []Result{{ID: "a", Status: "skipped", Message: NotFinished}, {ID: "b", Status: "skipped", Message: NotFinished}, {ID: "c", Status: "skipped", Message: NotFinished}}}
	p, err := StartProgress(dir, rr)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Add(Result{ID: "a", Status: "success"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(Result{ID: "b", Status: "error", Message: "boom"}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	path := filepath.Join(dir, "run_results.json")
	read := func() map[string]string {
		t.Helper()
		got, err := ReadRunResults(path)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range got.Results {
			out[r.ID] = r.Status
		}
		return out
	}
	got, err := ReadRunResults(path)
	if err != nil || !got.InProgress || got.Args.Vars != "k: 2" || got.Summary != (Summary{Pass: 1, Error: 1, Skip: 1}) {
		t.Fatalf("got %+v, %v", got, err)
	}
	// A kill in the middle of a line: the line is not read.
	f, err := os.OpenFile(filepath.Join(dir, ProgressFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"unique_id":"c","status":"succ`)
	f.Close()
	if s := read(); s["a"] != "success" || s["b"] != "error" || s["c"] != "skipped" {
		t.Errorf("after a cut line: %v", s)
	}
	// Another run's progress is not this one's.
	rr2 := *rr
	rr2.StartedAt = "2025-01-02T03:05:00Z"
	rr2.Results = append([]Result(nil), rr.Results...)
	if err := WriteJSON(path, &rr2); err != nil {
		t.Fatal(err)
	}
	if s := read(); s["a"] != "skipped" {
		t.Errorf("another run's progress was read: %v", s)
	}
	// An ended run is read as written, and its progress file removed.
	rr2.InProgress = false
	if err := WriteJSON(path, &rr2); err != nil {
		t.Fatal(err)
	}
	if err := RemoveProgress(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ProgressFile)); !os.IsNotExist(err) {
		t.Errorf("progress file: %v", err)
	}
}
