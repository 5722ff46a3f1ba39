package artifacts

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ProgressFile is the file beside run_results.json where a run records
// each node as it ends: a first line naming the run (its run_id), then
// one result per line, each with the run_id of the run that wrote it. A
// kill loses at most the line being written. Two runs of the project at
// once in one folder (on two targets or environments) share target/'s
// file: the one that started last truncates it, and the other's lines
// that follow are told apart by their run_id. Each also has a file of its
// own, in RunDir.
const ProgressFile = "run_progress.jsonl"

// NotFinished is the message of a node that a run in progress has not
// recorded as ended: it is running, waiting, or the run was killed.
const NotFinished = "not finished: the run was interrupted, or is still running"

// Progress records the nodes of a run as they end.
type Progress struct {
	mu    sync.Mutex
	files []*os.File // target/'s and the run's own (RunDir)
	run   string
}

type progressHeader struct {
	StartedAt string `json:"started_at"`
	Command   string `json:"command"`
	RunID     string `json:"run_id,omitempty"`
}

// progressLine is a result as the progress file has it.
type progressLine struct {
	Result
	RunID string `json:"run_id,omitempty"`
}

// RunsDir is the folder under target/ where each target and environment
// keeps the record of its own last run (RunDir).
const RunsDir = "runs"

// RunDir is the folder in targetDir that holds the record of the last run
// on target in env ("" is production): runs/<target>/ for production,
// runs/<target>/env/<env>/ for an environment, each with its own
// run_results.json and run_progress.jsonl. target/run_results.json is the
// last run started in the folder, whatever its target; two runs at once on
// two targets or environments (they take different run locks) each keep
// their own record here, which retry of that target or environment reads.
func RunDir(targetDir, target, env string) string {
	d := filepath.Join(targetDir, RunsDir, placeName(target))
	if env != "" {
		d = filepath.Join(d, "env", placeName(env))
	}
	return d
}

// placeName is name as one folder name: letters, digits, '_' and '-' as
// they are, '.' too but not first, any other byte as %XX; "" is "%".
func placeName(name string) string {
	if name == "" {
		return "%"
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' && i > 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// StartProgress records in dir (target/) that the run rr starts: it
// writes run_results.json with rr.InProgress set (rr.Results are the
// selected nodes, each "skipped" and NotFinished) and starts
// run_progress.jsonl, which Add appends to; both in dir, and in the
// folder of rr's target and environment (RunDir), which no run of
// another target or environment writes to.
func StartProgress(dir string, rr *RunResults) (*Progress, error) {
	if err := Folder(dir); err != nil {
		return nil, err
	}
	own := RunDir(dir, rr.Target, rr.Env)
	if err := os.MkdirAll(own, 0o700); err != nil {
		return nil, err
	}
	var p *Progress
	err := withRecordLock(dir, func() error {
		keepFinished(dir, dir)
		keepFinished(dir, own)
		rr.InProgress = true
		rr.Summary = summarize(rr.Results)
		line, _ := json.Marshal(progressHeader{StartedAt: rr.StartedAt, Command: rr.Command, RunID: rr.RunID})
		p = &Progress{run: rr.RunID}
		for _, d := range []string{dir, own} {
			f, err := os.OpenFile(filepath.Join(d, ProgressFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
			if err != nil {
				p.Close()
				return err
			}
			p.files = append(p.files, f)
			if _, err := f.Write(append(line, '\n')); err != nil {
				p.Close()
				return err
			}
			if err := WriteJSON(filepath.Join(d, "run_results.json"), rr); err != nil {
				p.Close()
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// keepFinished merges into targetDir's node_results.json, and that of the
// run's target and environment, the nodes that
// the run recorded in dir finished, when that run did not end (it was
// killed, or is still going on in another process): the record a new run
// is about to replace is the only place that has them. Its unfinished
// nodes keep their earlier results, which still say what the database
// holds, and so does a node whose latest result is newer (newerResult).
// Called with the record lock held; a record that cannot be read has
// nothing to keep.
func keepFinished(targetDir, dir string) {
	prev, err := ReadRunResults(filepath.Join(dir, "run_results.json"))
	if err != nil || !prev.InProgress {
		return
	}
	for _, path := range nodeResultsPaths(targetDir, prev) {
		latest, _ := ReadNodeResults(path)
		finished := *prev
		finished.Results = nil
		for _, r := range prev.Results {
			if r.Status == "skipped" && r.Message == NotFinished {
				continue
			}
			if latest != nil {
				if e := latest.Results[r.ID]; e != nil && newerResult(e, r, prev.StartedAt) {
					continue
				}
			}
			finished.Results = append(finished.Results, r)
		}
		if len(finished.Results) > 0 {
			_ = mergeNodeResults(path, &finished, nil)
		}
	}
}

// newerResult says whether e, a node's latest result, is newer than r,
// its result in a run that started at runStarted and did not end. Both
// results' own started_at (to the nanosecond) are compared when both have
// one: runs' started_at are to the second, and a run that started in the
// same second as the killed one, or before it, may have run the node
// after it. A result without its own time (a node skipped for its
// upstream's failure) is compared by its run's start, as times, not
// texts (a time with a fraction is after the same second without one);
// a tie is not newer, so the killed run's result is kept as before.
func newerResult(e *NodeResult, r Result, runStarted string) bool {
	if a, b, ok := parseTimes(e.StartedAt, r.StartedAt); ok {
		return a.After(b)
	}
	if a, b, ok := parseTimes(e.RunStartedAt, runStarted); ok {
		return a.After(b)
	}
	return e.RunStartedAt > runStarted
}

// parseTimes parses two RFC 3339 times; ok is false unless both parse.
func parseTimes(x, y string) (a, b time.Time, ok bool) {
	if x == "" || y == "" {
		return a, b, false
	}
	a, err1 := time.Parse(time.RFC3339Nano, x)
	b, err2 := time.Parse(time.RFC3339Nano, y)
	return a, b, err1 == nil && err2 == nil
}

// EndRun writes rr, a run that ended, to run_results.json in dir and
// removes the progress file, unless the file holds the record of another
// run that started after rr's and has not ended (it may be going on, or
// have been killed: retry is for that one). Then it leaves both as they
// are and returns that record, kept. The record of rr's target and
// environment (RunDir) is written the same way (another run there at once
// is one on a target of the same name in another database).
func EndRun(dir string, rr *RunResults) (kept *RunResults, err error) {
	err = withRecordLock(dir, func() error {
		for _, d := range []string{RunDir(dir, rr.Target, rr.Env), dir} {
			path := filepath.Join(d, "run_results.json")
			if now, err := readJSON[RunResults](path); err == nil && now.InProgress && now.RunID != "" && now.RunID != rr.RunID {
				if d == dir {
					kept = now
				}
				continue
			}
			if err := os.MkdirAll(d, 0o700); err != nil {
				return err
			}
			if err := WriteJSON(path, rr); err != nil {
				return fmt.Errorf("writing run_results.json: %w", err)
			}
			if err := RemoveProgress(d); err != nil {
				return fmt.Errorf("removing %s: %w", ProgressFile, err)
			}
		}
		return nil
	})
	return kept, err
}

// Add records that a node ended, with one write: lines of nodes that end
// at once never interleave.
func (p *Progress) Add(r Result) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	line, err := json.Marshal(progressLine{Result: r, RunID: p.run})
	if err != nil {
		return err
	}
	if p.files == nil {
		return errors.New("run_progress.jsonl is closed")
	}
	line = append(line, '\n')
	var errs []error
	for _, f := range p.files {
		_, err := f.Write(line)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Close stops recording. The run's end writes run_results.json whole and
// then removes run_progress.jsonl (RemoveProgress).
func (p *Progress) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, f := range p.files {
		errs = append(errs, f.Close())
	}
	p.files = nil
	return errors.Join(errs...)
}

// RemoveProgress removes the run_progress.jsonl in dir, once
// run_results.json holds a run that ended.
func RemoveProgress(dir string) error {
	err := os.Remove(filepath.Join(dir, ProgressFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// applyProgress puts the results recorded in a progress file, b, over
// rr's, when the file is rr's run's. A line cut short by a kill, or
// unreadable, ends the reading.
func applyProgress(b []byte, rr *RunResults) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	if !sc.Scan() {
		return
	}
	var h progressHeader
	if json.Unmarshal(sc.Bytes(), &h) != nil || h.StartedAt != rr.StartedAt || h.Command != rr.Command || h.RunID != rr.RunID {
		return // another run's
	}
	at := make(map[string]int, len(rr.Results))
	for i, r := range rr.Results {
		at[r.ID] = i
	}
	for sc.Scan() {
		var line progressLine
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.ID == "" {
			break
		}
		if line.RunID != h.RunID {
			continue // a line of another run that went on in this folder
		}
		r := line.Result
		if i, ok := at[r.ID]; ok {
			rr.Results[i] = r
		} else {
			at[r.ID] = len(rr.Results)
			rr.Results = append(rr.Results, r)
		}
	}
	rr.Summary = summarize(rr.Results)
}

// summarize counts results as run_results.json's summary does.
func summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch r.Status {
		case "success", "pass":
			s.Pass++
		case "warn":
			s.Warn++
		case "fail":
			s.Fail++
		case "error":
			s.Error++
		case "skipped":
			s.Skip++
		}
	}
	return s
}
