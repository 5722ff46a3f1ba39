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

// TestTwoRunsInOneFolder: two runs of a project at once in one folder (on
// two environments, started in the same second): the later one's record
// is not given the earlier one's results, and the earlier one's end
// leaves it for retry while it has not ended.
func TestTwoRunsInOneFolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run_results.json")
	notFinished := func() []Result {
		return []Result{{ID: "a", Status: "skipped", Message: NotFinished}, {ID: "b", Status: "skipped", Message: NotFinished}}
	}
	first := &RunResults{Command: "build", StartedAt: "2025-01-02T03:04:05Z", Env: "one", RunID: "1111", Results: notFinished()}
	second := &RunResults{Command: "build", StartedAt: "2025-01-02T03:04:05Z", Env: "two", RunID: "2222", Results: notFinished()}
	p1, err := StartProgress(dir, first)
	if err != nil {
		t.Fatal(err)
	}
	defer p1.Close()
	p2, err := StartProgress(dir, second) // truncates the file p1 appends to
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	if err := p1.Add(Result{ID: "a", Status: "error", Message: "failed in env one"}); err != nil {
		t.Fatal(err)
	}
	if err := p2.Add(Result{ID: "b", Status: "success"}); err != nil {
		t.Fatal(err)
	}
	statuses := func() (string, map[string]string) {
		t.Helper()
		got, err := ReadRunResults(path)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range got.Results {
			out[r.ID] = r.Status + " " + r.Message
		}
		return got.Env, out
	}
	if env, s := statuses(); env != "two" || s["a"] != "skipped "+NotFinished || s["b"] != "success " {
		t.Errorf("the second run's record, while both run: %s %v", env, s)
	}

	// The first ends: the second, still going on, keeps the record.
	first.InProgress = false
	first.Results = []Result{{ID: "a", Status: "error"}, {ID: "b", Status: "success"}}
	kept, err := EndRun(dir, first)
	if err != nil {
		t.Fatal(err)
	}
	if kept == nil || kept.RunID != "2222" {
		t.Fatalf("kept %+v, want the second run's record", kept)
	}
	if env, s := statuses(); env != "two" || s["b"] != "success " {
		t.Errorf("after the first run ended: %s %v", env, s)
	}
	// The second ends: its record replaces its progress.
	second.InProgress = false
	second.Results = []Result{{ID: "a", Status: "success"}, {ID: "b", Status: "success"}}
	if kept, err := EndRun(dir, second); err != nil || kept != nil {
		t.Fatalf("second EndRun: %+v, %v", kept, err)
	}
	if env, s := statuses(); env != "two" || s["a"] != "success " {
		t.Errorf("after the second run ended: %s %v", env, s)
	}
	if _, err := os.Stat(filepath.Join(dir, ProgressFile)); !os.IsNotExist(err) {
		t.Errorf("progress file: %v", err)
	}
	// A run's end replaces a record that ended, or its own.
	third := &RunResults{Command: "run", StartedAt: "2025-01-02T03:04:06Z", RunID: "3333", Results: notFinished()}
	if kept, err := EndRun(dir, third); err != nil || kept != nil {
		t.Fatalf("third EndRun: %+v, %v", kept, err)
	}
}

// TestEachPlaceKeepsItsRecord: of two runs at once in one folder, in two
// environments, the first is killed and the second ends: target/'s record
// is the second's, and the first's own record (RunDir) still says what it
// finished, which the next run in its environment keeps in
// node_results.json unless a later run has a newer result.
func TestEachPlaceKeepsItsRecord(t *testing.T) {
	dir := t.TempDir()
	notFinished := func() []Result {
		return []Result{{ID: "a", Status: "skipped", Message: NotFinished}, {ID: "b", Status: "skipped", Message: NotFinished}}
	}
	first := &RunResults{Command: "build", Target: "prod", StartedAt: "2025-01-02T03:04:05Z", Env: "one", RunID: "1111", Results: notFinished()}
	second := &RunResults{Command: "build", Target: "prod", StartedAt: "2025-01-02T03:04:06Z", Env: "two", RunID: "2222", Results: notFinished()}
	p1, err := StartProgress(dir, first)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := StartProgress(dir, second)
	if err != nil {
		t.Fatal(err)
	}
	if err := p1.Add(Result{ID: "a", Status: "success"}); err != nil {
		t.Fatal(err)
	}
	p1.Close() // killed
	if err := p2.Add(Result{ID: "b", Status: "error"}); err != nil {
		t.Fatal(err)
	}
	p2.Close()
	second.InProgress = false
	second.Results = []Result{{ID: "a", Status: "skipped"}, {ID: "b", Status: "error"}}
	if kept, err := EndRun(dir, second); err != nil || kept != nil {
		t.Fatalf("EndRun: %+v, %v", kept, err)
	}
	if last, err := ReadRunResults(filepath.Join(dir, "run_results.json")); err != nil || last.Env != "two" || last.InProgress {
		t.Fatalf("target/'s record: %+v, %v", last, err)
	}
	own, err := ReadRunResults(filepath.Join(RunDir(dir, "prod", "one"), "run_results.json"))
	if err != nil || own.Env != "one" || !own.InProgress || own.Results[0].Status != "success" || own.Results[1].Status != "skipped" {
		t.Fatalf("env one's record: %+v, %v", own, err)
	}
	if _, err := os.Stat(filepath.Join(RunDir(dir, "prod", "two"), ProgressFile)); !os.IsNotExist(err) {
		t.Errorf("env two's progress file after its run ended: %v", err)
	}
	// A newer result of b (from the second run) is not replaced by the
	// killed run's, a, which nothing newer has, is kept.
	if err := UpdateNodeResults(dir, &RunResults{Command: "run", StartedAt: "2025-01-02T03:04:07Z", Results: []Result{{ID: "b", Status: "success"}}}, nil); err != nil {
		t.Fatal(err)
	}
	p3, err := StartProgress(dir, &RunResults{Command: "build", Target: "prod", StartedAt: "2025-01-02T03:05:00Z", Env: "one", RunID: "3333", Results: notFinished()})
	if err != nil {
		t.Fatal(err)
	}
	p3.Close()
	h, err := ReadNodeResults(filepath.Join(dir, NodeResultsFile))
	if err != nil || h.Results["a"] == nil || h.Results["a"].RunStartedAt != first.StartedAt || h.Results["b"].Status != "success" {
		t.Errorf("node_results.json: %+v, %v", h, err)
	}
}

func TestRunDir(t *testing.T) {
	for _, c := range []struct{ target, env, want string }{
		{"prod", "", "t/runs/prod"},
		{"prod", "pr_42", "t/runs/prod/env/pr_42"},
		{"a/b", "x y", "t/runs/a%2Fb/env/x%20y"},
		{"..", "", "t/runs/%2E."},
		{"", "", "t/runs/%"},
		{"v1.2", "", "t/runs/v1.2"},
	} {
		if got := filepath.ToSlash(RunDir("t", c.target, c.env)); got != c.want {
			t.Errorf("RunDir(%q, %q) = %s, want %s", c.target, c.env, got, c.want)
		}
	}
}

// TestNewerResult: a killed run's result of a node does not replace the
// node's latest result when that is newer, to the nanosecond the results'
// own started_at carry, though both runs started in the same second.
func TestNewerResult(t *testing.T) {
	const run = "2025-01-02T03:04:05Z"
	for _, c := range []struct {
		name             string
		latestRun        string // the latest result's run_started_at
		latestAt, killed string // the results' own started_at
		want             bool
	}{
		{"same second, latest ran the node later", run, "2025-01-02T03:04:05.9Z", "2025-01-02T03:04:05.2Z", true},
		{"same second, killed ran the node later", run, "2025-01-02T03:04:05.2Z", "2025-01-02T03:04:05.9Z", false},
		{"latest run started earlier but ran the node later", "2025-01-02T03:04:04Z", "2025-01-02T03:04:07.5Z", "2025-01-02T03:04:06.123456789Z", true},
		{"a whole second is before its fraction", run, "2025-01-02T03:04:06Z", "2025-01-02T03:04:06.5Z", false},
		{"a fraction is after its whole second", run, "2025-01-02T03:04:06.5Z", "2025-01-02T03:04:06Z", true},
		{"no node times: a later run", "2025-01-02T03:04:06Z", "", "", true},
		{"no node times: an earlier run", "2025-01-02T03:04:04Z", "", "", false},
		{"no node times: the same second is a tie", run, "", "", false},
		{"one node time: runs compared", "2025-01-02T03:04:06Z", "", "2025-01-02T03:04:09Z", true},
		{"the same result again", run, "2025-01-02T03:04:05.5Z", "2025-01-02T03:04:05.5Z", false},
	} {
		e := &NodeResult{Result: Result{ID: "a", StartedAt: c.latestAt}, RunStartedAt: c.latestRun}
		if got := newerResult(e, Result{ID: "a", StartedAt: c.killed}, run); got != c.want {
			t.Errorf("%s: newerResult = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestKilledRunOfTheSameSecond: two runs start in the same second on two
// environments; the second runs a after the first did and ends, the first
// is killed. The next run in the first's environment keeps the second's
// result of a, the newer.
func TestKilledRunOfTheSameSecond(t *testing.T) {
	dir := t.TempDir()
	const second = "2025-01-02T03:04:05Z"
	pending := []Result{{ID: "a", Status: "skipped", Message: NotFinished}}
	p1, err := StartProgress(dir, &RunResults{Command: "build", Target: "prod", StartedAt: second, Env: "one", RunID: "1111", Results: append([]Result(nil), pending...)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p1.Add(Result{ID: "a", Status: "error", StartedAt: "2025-01-02T03:04:05.3Z"}); err != nil {
		t.Fatal(err)
	}
	p1.Close() // killed
	later := &RunResults{Command: "build", Target: "prod", StartedAt: second, Env: "two", RunID: "2222", Results: []Result{{ID: "a", Status: "success", StartedAt: "2025-01-02T03:04:05.8Z"}}}
	if _, err := EndRun(dir, later); err != nil {
		t.Fatal(err)
	}
	if err := UpdateNodeResults(dir, later, nil); err != nil {
		t.Fatal(err)
	}
	p3, err := StartProgress(dir, &RunResults{Command: "build", Target: "prod", StartedAt: "2025-01-02T03:05:00Z", Env: "one", RunID: "3333", Results: append([]Result(nil), pending...)})
	if err != nil {
		t.Fatal(err)
	}
	p3.Close()
	h, err := ReadNodeResults(filepath.Join(dir, NodeResultsFile))
	if err != nil || h.Results["a"] == nil || h.Results["a"].Status != "success" {
		t.Errorf("node_results.json: a is %+v, %v; want the second run's success", h.Results["a"], err)
	}
}
