package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"strata/engine/artifacts"
	"strata/engine/compile"
	"strata/engine/graph"
	"strata/engine/internal/par"
	"strata/engine/manifest"
	"strata/engine/project"
	"strata/engine/run"
)

// nodeArtifact describes a node for manifest.json.
func nodeArtifact(l *loaded, n *manifest.Node) *artifacts.Node {
	cfg, _ := json.Marshal(n.Config)
	an := &artifacts.Node{ID: n.ID, ResourceType: string(n.Kind), Name: n.Name, Path: n.Path, Line: n.Pos.Line,
		Description: n.Description, Config: cfg, Checksum: n.Checksum, ConfigSum: project.Checksum(cfg), Tags: n.Config.Tags,
		DependsOn: artifacts.DependsOn{Nodes: nonNil(n.DependsOn), Macros: nonNil(n.Macros)}}
	if n.Kind == manifest.Model || n.Kind == manifest.Seed || n.Kind == manifest.Source {
		an.Schema, an.Relation = n.Relation.Schema, n.Relation.Quoted()
	}
	if n.Model != nil {
		an.Raw = n.Model.SQL
	}
	for _, c := range n.Columns {
		an.Columns = append(an.Columns, artifacts.Column{Name: c.Name, Description: c.Description, DataType: c.DataType})
	}
	if ti := n.TestInfo; ti != nil {
		an.Test = &artifacts.TestMeta{Kind: ti.Kind, Column: ti.Column, Args: ti.Args, Attached: ti.Attached}
	}
	if res, ok := l.compiled[n.ID]; ok {
		an.CompiledCode = res.SQL
		an.Vars = hashValues(res.Reads.Vars)
		an.EnvVars = hashValues(res.Reads.EnvVars)
		an.Compiled = compiledPath(n)
	}
	return an
}

// compiledPath is the node's file under target/compiled, or "" for a path
// that would leave it (compile refuses to write that file).
func compiledPath(n *manifest.Node) string {
	rel, err := compile.RelPath(n)
	if err != nil {
		return ""
	}
	return filepath.ToSlash(filepath.Join("target", "compiled", rel))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// hashValues keeps what was read without writing secrets to disk.
func hashValues(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = project.Checksum([]byte(v))[:16]
	}
	return out
}

func (a *app) manifestArtifact(l *loaded) *artifacts.Manifest {
	ids := l.man.Sorted()
	am := &artifacts.Manifest{Version: artifacts.ManifestVersion, Project: l.proj.Name, Target: l.target.Name,
		Nodes: make(map[string]*artifacts.Node, len(ids)), Sources: map[string]*artifacts.Node{}, Exposure: map[string]*artifacts.Node{},
		Macros: map[string]*artifacts.Macro{}, Parents: make(map[string][]string, len(ids)), Children: make(map[string][]string, len(ids))}
	// Building a node's entry (its config encoded and hashed) is most of the
	// cost for a big project, and independent per node.
	ans := make([]*artifacts.Node, len(ids))
	par.For(len(ids), min(runtime.GOMAXPROCS(0), len(ids)/256), func(i int) {
		ans[i] = nodeArtifact(l, l.man.Nodes[ids[i]])
	})
	for i, id := range ids {
		n, an := l.man.Nodes[id], ans[i]
		switch n.Kind {
		case manifest.Source:
			am.Sources[id] = an
		case manifest.Exposure:
			am.Exposure[id] = an
		default:
			am.Nodes[id] = an
		}
		am.Parents[id] = nonNil(l.gr.Parents(id))
		am.Children[id] = nonNil(l.gr.Children(id))
	}
	sums := map[string]string{}
	for _, f := range l.proj.Macros {
		sums[f.Path] = f.Checksum
	}
	for _, name := range l.man.Macros.Names() {
		file := l.man.Macros.File(name)
		am.Macros["macro."+l.proj.Name+"."+name] = &artifacts.Macro{Name: name, Path: file, Checksum: sums[file]}
	}
	return am
}

func (a *app) writeManifest(l *loaded, targetDir string) error {
	return artifacts.WriteJSON(filepath.Join(targetDir, "manifest.json"), a.manifestArtifact(l))
}

// state compares the project with an earlier manifest and run results (--state DIR).
type state struct {
	l       *loaded
	prev    *artifacts.Manifest
	results map[string]string
}

var _ graph.State = (*state)(nil)

// loadState returns a nil State (not a nil *state) without --state, so that
// selection can tell that state: and result: have nothing to compare with.
func (a *app) loadState(l *loaded, dir string) (graph.State, error) {
	if dir == "" {
		return nil, nil
	}
	prev, err := artifacts.ReadManifest(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("--state %s: cannot read the earlier manifest: %v", dir, unwrapPath(err))
	}
	s := &state{l: l, prev: prev, results: map[string]string{}}
	if rr, err := artifacts.ReadRunResults(filepath.Join(dir, "run_results.json")); err == nil {
		for _, r := range rr.Results {
			s.results[r.ID] = r.Status
		}
	}
	return s, nil
}

func (s *state) old(id string) *artifacts.Node {
	if n, ok := s.prev.Nodes[id]; ok {
		return n
	}
	if n, ok := s.prev.Sources[id]; ok {
		return n
	}
	return s.prev.Exposure[id]
}

// Modified: the SQL, the config, a macro used, or a var or env_var read changed (or the node is new).
func (s *state) Modified(n *manifest.Node) bool {
	old := s.old(n.ID)
	if old == nil {
		return true
	}
	cur := nodeArtifact(s.l, n)
	return old.Checksum != cur.Checksum || old.ConfigSum != cur.ConfigSum || !sameMap(old.Vars, cur.Vars) || !sameMap(old.EnvVars, cur.EnvVars)
}

// New: the node was not in the earlier manifest.
func (s *state) New(n *manifest.Node) bool { return s.old(n.ID) == nil }

func (s *state) Result(id string) (string, bool) {
	r, ok := s.results[id]
	if r == "success" {
		r = "success"
	}
	return r, ok
}

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

func (a *app) writeResults(l *loaded, targetDir, cmd string, started time.Time, results []run.Result) {
	rr := artifacts.RunResults{Command: cmd, StartedAt: started.UTC().Format(time.RFC3339), ElapsedTime: time.Since(started).Seconds(), Target: l.target.Name}
	sorted := append([]run.Result(nil), results...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	junit := &artifacts.JUnit{Name: "strata " + cmd}
	suite := artifacts.JUnitSuite{Name: l.proj.Name + " data tests"}
	for _, r := range sorted {
		kind := ""
		if n, ok := l.man.Nodes[r.ID]; ok {
			kind = string(n.Kind)
		}
		ar := artifacts.Result{ID: r.ID, ResourceType: kind, Status: string(r.Status), Message: r.Message, AdapterResp: r.Response,
			Rows: r.Rows, ExecutionTime: r.Duration.Seconds(), Compiled: r.Compiled, Executed: r.Executed, Relation: r.Relation, Attempts: r.Attempts}
		if !r.Started.IsZero() {
			ar.StartedAt = r.Started.UTC().Format(time.RFC3339Nano)
		}
		if kind == "test" {
			f := r.Failures
			ar.Failures = &f
		}
		rr.Results = append(rr.Results, ar)
		switch r.Status {
		case run.Success, run.Pass:
			rr.Summary.Pass++
		case run.Warn:
			rr.Summary.Warn++
		case run.Error, run.Fail:
			rr.Summary.Error++
		case run.Skipped:
			rr.Summary.Skip++
		}
		if kind != "test" {
			continue
		}
		n := l.man.Nodes[r.ID]
		tc := artifacts.JUnitCase{Name: n.Name, ClassName: l.proj.Name + "." + strings.TrimSuffix(n.Path, filepath.Ext(n.Path)), Time: r.Duration.Seconds()}
		suite.Tests++
		suite.Time += r.Duration.Seconds()
		switch r.Status {
		case run.Fail:
			tc.Failure = &artifacts.JUnitMessage{Message: fmt.Sprintf("%d failing rows", r.Failures), Type: "fail", Text: r.Message}
			suite.Failures++
		case run.Error:
			tc.Error = &artifacts.JUnitMessage{Message: firstLineOf(r.Message), Type: "error", Text: r.Message}
			suite.Errors++
		case run.Skipped:
			tc.Skipped = &artifacts.JUnitMessage{Message: r.Message}
			suite.Skipped++
		case run.Warn:
			tc.SystemOut = fmt.Sprintf("warning: %d failing rows; %s", r.Failures, r.Message)
		}
		suite.Cases = append(suite.Cases, tc)
	}
	if err := artifacts.WriteJSON(filepath.Join(targetDir, "run_results.json"), rr); err != nil {
		fmt.Fprintf(a.stderr, "strata: writing run_results.json: %v\n", err)
	}
	if cmd == "test" || cmd == "build" {
		junit.Tests, junit.Failures, junit.Errors, junit.Skipped, junit.Time = suite.Tests, suite.Failures, suite.Errors, suite.Skipped, suite.Time
		junit.Suites = []artifacts.JUnitSuite{suite}
		if err := artifacts.WriteJUnit(filepath.Join(targetDir, "junit.xml"), junit); err != nil {
			fmt.Fprintf(a.stderr, "strata: writing junit.xml: %v\n", err)
		}
	}
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

var _ = os.Stat
