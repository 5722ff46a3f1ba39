package artifacts

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
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

// Without its place's own node_results.json (its last run was by an older
// strata), a target's results are those of target/node_results.json
// recorded there, and those whose place an older strata did not record.
func TestReadPlaceNodeResultsFallsBackToTargets(t *testing.T) {
	dir := t.TempDir()
	old := &NodeResults{Version: NodeResultsVersion, Results: map[string]*NodeResult{
		"model.p.old":  {Result: Result{ID: "model.p.old", Status: "success"}},
		"model.p.prod": {Result: Result{ID: "model.p.prod", Status: "success"}, Target: "prod"},
		"model.p.dev":  {Result: Result{ID: "model.p.dev", Status: "error"}, Target: "dev"},
		"model.p.env":  {Result: Result{ID: "model.p.env", Status: "error"}, Target: "prod", Env: "pr_1"},
	}}
	if err := WriteJSON(filepath.Join(dir, NodeResultsFile), old); err != nil {
		t.Fatal(err)
	}
	h, err := ReadPlaceNodeResults(dir, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for id := range h.Results {
		got = append(got, id)
	}
	sort.Strings(got)
	if want := []string{"model.p.old", "model.p.prod"}; !reflect.DeepEqual(got, want) {
		t.Errorf("prod's results without its own file: %v, want %v", got, want)
	}
	// Once a run on prod wrote its own, that is what prod has.
	if err := UpdateNodeResults(dir, &RunResults{Command: "run", Target: "prod", Results: []Result{{ID: "model.p.prod", Status: "error"}}}, nil); err != nil {
		t.Fatal(err)
	}
	h, err = ReadPlaceNodeResults(dir, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Results) != 1 || h.Results["model.p.prod"].Status != "error" || h.Results["model.p.prod"].Target != "prod" {
		t.Errorf("prod's own results: %+v", h.Results)
	}
}
