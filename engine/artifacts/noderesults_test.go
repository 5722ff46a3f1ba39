package artifacts

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// A command that runs a few nodes leaves every other node's result as the
// command before it left it.
func TestUpdateNodeResultsKeepsEachNodesLatest(t *testing.T) {
	dir := t.TempDir()
	inProject := map[string]bool{"model.p.a": true, "model.p.b": true, "test.p.t": true}
	keep := func(id string) bool { return inProject[id] }
	build := &RunResults{Command: "build", StartedAt: "2025-01-02T03:00:00Z", Results: []Result{
		{ID: "model.p.a", Status: "success", Rows: 3},
		{ID: "model.p.b", Status: "success", Rows: 5},
		{ID: "model.p.gone", Status: "success"},
		{ID: "test.p.t", Status: "pass"},
	}}
	if err := UpdateNodeResults(dir, build, keep); err != nil {
		t.Fatal(err)
	}
	run := &RunResults{Command: "run", StartedAt: "2025-01-02T04:00:00Z", Results: []Result{
		{ID: "model.p.b", Status: "error", Message: "division by zero"},
	}}
	if err := UpdateNodeResults(dir, run, keep); err != nil {
		t.Fatal(err)
	}
	h, err := ReadNodeResults(filepath.Join(dir, NodeResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]NodeResult{
		"model.p.a": {Result: Result{ID: "model.p.a", Status: "success", Rows: 3}, Command: "build", RunStartedAt: "2025-01-02T03:00:00Z"},
		"model.p.b": {Result: Result{ID: "model.p.b", Status: "error", Message: "division by zero"}, Command: "run", RunStartedAt: "2025-01-02T04:00:00Z"},
		"test.p.t":  {Result: Result{ID: "test.p.t", Status: "pass"}, Command: "build", RunStartedAt: "2025-01-02T03:00:00Z"},
	}
	got := map[string]NodeResult{}
	for id, r := range h.Results {
		got[id] = *r
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("history:\n got  %+v\n want %+v", got, want)
	}
	if h.Version != NodeResultsVersion {
		t.Errorf("version %d, want %d", h.Version, NodeResultsVersion)
	}
}

// No history yet is an empty one; a history that cannot be read starts again.
func TestNodeResultsMissingOrUnreadable(t *testing.T) {
	dir := t.TempDir()
	h, err := ReadNodeResults(filepath.Join(dir, NodeResultsFile))
	if err != nil || len(h.Results) != 0 {
		t.Fatalf("missing file: %v, %v", h, err)
	}
	if err := os.WriteFile(filepath.Join(dir, NodeResultsFile), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadNodeResults(filepath.Join(dir, NodeResultsFile)); err == nil {
		t.Error("reading a broken file: no error")
	}
	if err := UpdateNodeResults(dir, &RunResults{Command: "seed", Results: []Result{{ID: "seed.p.s", Status: "success"}}}, nil); err != nil {
		t.Fatal(err)
	}
	h, err = ReadNodeResults(filepath.Join(dir, NodeResultsFile))
	if err != nil || len(h.Results) != 1 || h.Results["seed.p.s"].Command != "seed" {
		t.Errorf("after a broken file: %+v, %v", h, err)
	}
}
