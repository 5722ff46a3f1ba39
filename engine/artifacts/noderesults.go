package artifacts

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// NodeResultsFile is the name of the file in target/ that keeps each node's latest result.
const NodeResultsFile = "node_results.json"

// NodeResultsVersion changes when the shape of node_results.json does.
const NodeResultsVersion = 1

// NodeResults is target/node_results.json: the latest result of every node,
// whichever command produced it. run_results.json holds only the last
// command's nodes, so after a build and then `run -s x` it knows nothing of
// the other nodes; this file still has their results from the build.
type NodeResults struct {
	Version int                    `json:"version"`
	Results map[string]*NodeResult `json:"results"` // by unique_id
}

// NodeResult is a node's latest result and the command that produced it.
type NodeResult struct {
	Result
	Command      string `json:"command"`        // as in run_results.json
	RunStartedAt string `json:"run_started_at"` // when that command started
	// Target and Env are where the command ran: its target, and its
	// environment (--env), "" for production. Target is "" in a file an
	// older strata wrote, which did not record it.
	Target string `json:"target,omitempty"`
	Env    string `json:"env,omitempty"`
}

// ReadNodeResults reads a node_results.json; a file that does not exist is
// an empty history, not an error.
func ReadNodeResults(path string) (*NodeResults, error) {
	h, err := readJSON[NodeResults](path)
	if errors.Is(err, fs.ErrNotExist) {
		return &NodeResults{Version: NodeResultsVersion, Results: map[string]*NodeResult{}}, nil
	}
	if err != nil {
		return nil, err
	}
	if h.Results == nil {
		h.Results = map[string]*NodeResult{}
	}
	return h, nil
}

// Merge records the results of a command over the history: each node it
// ran or skipped now has that result; every other node keeps its own. When
// keep is not nil, a node for which it returns false (one no longer in the
// project) is dropped.
func (h *NodeResults) Merge(rr *RunResults, keep func(id string) bool) {
	if h.Results == nil {
		h.Results = map[string]*NodeResult{}
	}
	h.Version = NodeResultsVersion
	for _, r := range rr.Results {
		h.Results[r.ID] = &NodeResult{Result: r, Command: rr.Command, RunStartedAt: rr.StartedAt, Target: rr.Target, Env: rr.Env}
	}
	if keep != nil {
		for id := range h.Results {
			if !keep(id) {
				delete(h.Results, id)
			}
		}
	}
}

// UpdateNodeResults merges the results of a command into
// targetDir/node_results.json, each node's latest result wherever it ran,
// and into node_results.json in the command's own folder (RunDir), each
// node's latest result on the command's target and environment, which the
// docs site of that target shows. A history that cannot be read (written
// by hand, or half a disk ago) is started again from this command's
// results.
func UpdateNodeResults(targetDir string, rr *RunResults, keep func(id string) bool) error {
	return withRecordLock(targetDir, func() error { return updateNodeResults(targetDir, rr, keep) })
}

// nodeResultsPaths are the node_results.json files a command's results go
// to: target/'s, and its target and environment's own.
func nodeResultsPaths(targetDir string, rr *RunResults) []string {
	return []string{filepath.Join(targetDir, NodeResultsFile), filepath.Join(RunDir(targetDir, rr.Target, rr.Env), NodeResultsFile)}
}

// updateNodeResults is UpdateNodeResults with the record lock held.
func updateNodeResults(targetDir string, rr *RunResults, keep func(id string) bool) error {
	var errs []error
	for _, path := range nodeResultsPaths(targetDir, rr) {
		errs = append(errs, mergeNodeResults(path, rr, keep))
	}
	return errors.Join(errs...)
}

// mergeNodeResults merges rr into the node_results.json at path.
func mergeNodeResults(path string, rr *RunResults, keep func(id string) bool) error {
	h, err := ReadNodeResults(path)
	if err != nil {
		h = &NodeResults{}
	}
	h.Merge(rr, keep)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return WriteJSON(path, h)
}

// ReadPlaceNodeResults reads each node's latest result on target in
// environment env ("" for production): the node_results.json of that
// place's folder (RunDir). Without one (the place's last run was by an
// older strata), it reads target/node_results.json and keeps the results
// recorded on that place, and those whose place was not recorded.
func ReadPlaceNodeResults(targetDir, target, env string) (*NodeResults, error) {
	h, err := readJSON[NodeResults](filepath.Join(RunDir(targetDir, target, env), NodeResultsFile))
	if err == nil {
		if h.Results == nil {
			h.Results = map[string]*NodeResult{}
		}
		return h, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	h, err = ReadNodeResults(filepath.Join(targetDir, NodeResultsFile))
	if err != nil {
		return nil, err
	}
	for id, r := range h.Results {
		if r.Target != "" && (r.Target != target || r.Env != env) {
			delete(h.Results, id)
		}
	}
	return h, nil
}
