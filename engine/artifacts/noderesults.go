package artifacts

import (
	"errors"
	"io/fs"
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
		h.Results[r.ID] = &NodeResult{Result: r, Command: rr.Command, RunStartedAt: rr.StartedAt}
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
// targetDir/node_results.json. A history that cannot be read (written by
// hand, or half a disk ago) is started again from this command's results.
func UpdateNodeResults(targetDir string, rr *RunResults, keep func(id string) bool) error {
	return withRecordLock(targetDir, func() error { return updateNodeResults(targetDir, rr, keep) })
}

// updateNodeResults is UpdateNodeResults with the record lock held.
func updateNodeResults(targetDir string, rr *RunResults, keep func(id string) bool) error {
	path := filepath.Join(targetDir, NodeResultsFile)
	h, err := ReadNodeResults(path)
	if err != nil {
		h = &NodeResults{}
	}
	h.Merge(rr, keep)
	return WriteJSON(path, h)
}
