package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"strata/engine/artifacts"
	"strata/engine/graph"
	"strata/engine/manifest"
)

// Selection is what a command selects: --select, --exclude and --state,
// or, for retry, exactly the nodes of the last run that are to run again.
type Selection struct {
	Select, Exclude []string
	// State is a folder with an earlier manifest.json (and
	// run_results.json), for the state: and result: selectors.
	State string
	// IDs, when not nil, selects exactly these nodes (those still in the
	// project) instead of Select and Exclude: ids need no parsing, and
	// names may hold spaces.
	IDs []string
	// Ran, with IDs, are all the nodes of the run retried: a data test
	// among them that reads a seed or model of IDs is selected too, as
	// what it read is built again (a test that passed in a model's audit
	// judged a version that was thrown away).
	Ran []string
	// Direct selects only what the selectors pick by themselves, without
	// the tests of the nodes they pick (graph.SelectDirect): what ls lists.
	Direct bool
}

// StateError is a --state folder whose manifest cannot be read.
type StateError struct {
	Dir string
	Err error // without the file's path, which the message names
}

func (e *StateError) Error() string {
	msg := fmt.Sprintf("--state %s: cannot read the earlier manifest: %v", e.Dir, e.Err)
	if !filepath.IsAbs(e.Dir) {
		// Read from the current folder, not --project-dir: said with
		// the folder it looked in.
		if abs, err := filepath.Abs(e.Dir); err == nil {
			msg += fmt.Sprintf(" (looked for %s: a relative --state is read from the current folder, not from --project-dir)", filepath.Join(abs, "manifest.json"))
		}
	}
	return msg
}

func (e *StateError) Unwrap() error { return e.Err }

// Select returns the ids s selects. An error is the user's: a selector
// that names nothing in the project (*graph's message, with "did you
// mean"), or a *StateError.
func (l *Project) Select(s Selection) (map[string]bool, error) {
	if s.IDs != nil {
		return l.retried(s.IDs, s.Ran), nil
	}
	st, err := l.loadState(s.State)
	if err != nil {
		return nil, err
	}
	if st == nil && l.prod != nil {
		st = recorded{l}
	}
	if s.Direct {
		return l.Graph.SelectDirect(s.Select, s.Exclude, st)
	}
	return l.Graph.Select(s.Select, s.Exclude, st)
}

// knownIDs is the set of ids that are still nodes of the project; a node
// removed since the last run has nothing left to retry.
func (l *Project) knownIDs(ids []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		if _, ok := l.Manifest.Nodes[id]; ok {
			out[id] = true
		}
	}
	return out
}

// retried is the set of ids that are still nodes of the project, with the
// data tests among ran that read a seed or model of them: a test that
// passed in the audit of a model whose audit failed (another test failed)
// judged the version that was thrown away, and the version retry builds
// must pass it too before it is published.
func (l *Project) retried(ids, ran []string) map[string]bool {
	out := l.knownIDs(ids)
	for _, id := range ran {
		t, ok := l.Manifest.Nodes[id]
		if !ok || out[id] || t.Kind != manifest.Test || t.IsUnit() {
			continue
		}
		for _, d := range t.DependsOn {
			if n := l.Manifest.Nodes[d]; out[d] && n != nil && (n.Kind == manifest.Model || n.Kind == manifest.Seed) {
				out[id] = true
				break
			}
		}
	}
	return out
}

// state compares the project with an earlier manifest and run results (--state DIR).
type savedState struct {
	l       *Project
	prev    *artifacts.Manifest
	results map[string]string
	// resultsErr is why DIR/run_results.json could not be read.
	resultsErr error
}

var _ graph.State = (*savedState)(nil)

// loadState returns a nil State (not a nil *savedState) without --state, so that
// selection can tell that state: and result: have nothing to compare with.
func (l *Project) loadState(dir string) (graph.State, error) {
	if dir == "" {
		return nil, nil
	}
	prev, err := artifacts.ReadManifest(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, &StateError{Dir: dir, Err: withoutPath(err)}
	}
	s := &savedState{l: l, prev: prev, results: map[string]string{}}
	if rr, err := artifacts.ReadRunResults(filepath.Join(dir, "run_results.json")); err == nil {
		for _, r := range rr.Results {
			s.results[r.ID] = r.Status
		}
	} else {
		s.resultsErr = fmt.Errorf("needs the run_results.json of an earlier run in --state %s, and it cannot be read: %v (copy target/run_results.json there with the target/manifest.json of the same run)", dir, withoutPath(err))
	}
	return s, nil
}

// withoutPath is err without the path of the file it is about, for a
// message that names the file itself.
func withoutPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (s *savedState) old(id string) *artifacts.Node {
	if n, ok := s.prev.Nodes[id]; ok {
		return n
	}
	if n, ok := s.prev.Sources[id]; ok {
		return n
	}
	return s.prev.Exposure[id]
}

// Modified: the SQL, the config, a macro used, or a var or env_var read changed (or the node is new).
func (s *savedState) Modified(n *manifest.Node) bool {
	old := s.old(n.ID)
	if old == nil {
		return true
	}
	cur := s.l.NodeArtifact(n)
	return old.Checksum != cur.Checksum || old.ConfigSum != cur.ConfigSum || !sameMap(old.Vars, cur.Vars) || !sameMap(old.EnvVars, cur.EnvVars)
}

// New: the node was not in the earlier manifest.
func (s *savedState) New(n *manifest.Node) bool { return s.old(n.ID) == nil }

func (s *savedState) Result(id string) (string, bool) {
	r, ok := s.results[id]
	return r, ok
}

func (s *savedState) RunResults() error { return s.resultsErr }

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
