package pipeline

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"strata/engine/artifacts"
	"strata/engine/compile"
	"strata/engine/internal/par"
	"strata/engine/manifest"
	"strata/engine/project"
	"strata/engine/run"
)

// NodeArtifact describes a node for manifest.json (and ls --output json).
func (l *Project) NodeArtifact(n *manifest.Node) *artifacts.Node {
	cfg, _ := json.Marshal(n.Config)
	an := &artifacts.Node{ID: n.ID, ResourceType: string(n.Kind), Name: n.Name, Path: n.Path, Line: n.Pos.Line,
		Description: n.Description, Config: cfg, Checksum: n.Checksum, ConfigSum: project.Checksum(cfg), Tags: n.Config.Tags,
		DependsOn: artifacts.DependsOn{Nodes: nonNil(n.DependsOn), Macros: nonNil(n.Macros)}}
	if n.IsUnit() {
		// The model it tests, as dbt writes it. (The graph has no edge: a
		// unit test runs before its model is built, reading none of its
		// inputs, so parent_map has none either.)
		an.DependsOn.Nodes = []string{n.TestInfo.Attached}
	}
	if n.Kind == manifest.Model || n.Kind == manifest.Seed || n.Kind == manifest.Source {
		an.Schema, an.Relation = n.Relation.Schema, n.Relation.Quoted()
	}
	if n.Model != nil {
		an.Raw = n.Model.SQL
	}
	if src := n.Source; src != nil {
		an.SourceName, an.SourceDescription = src.Name, src.Description
	}
	if e := n.Exposure; e != nil {
		an.Type, an.Label, an.Maturity, an.URL = e.Type, e.Label, e.Maturity, e.URL
		if e.OwnerName != "" || e.OwnerEmail != "" {
			an.Owner = &artifacts.Owner{Name: e.OwnerName, Email: e.OwnerEmail}
		}
	}
	if cn := l.freshCheck(n); cn != nil && len(cn.Columns) > 0 {
		an.Columns, an.ColumnsCheckedAt, an.ColumnsUsed = checkedColumns(n, cn), cn.CheckedAt, cn.ColumnsUsed
	} else {
		for _, c := range n.Columns {
			an.Columns = append(an.Columns, artifacts.Column{Name: c.Name, Description: c.Description, DataType: c.DataType})
		}
	}
	if ti := n.TestInfo; ti != nil {
		an.Test = &artifacts.TestMeta{Kind: ti.Kind, Column: ti.Column, Args: ti.Args, Attached: ti.Attached}
	}
	if res, ok := l.Compiled[n.ID]; ok {
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

// ManifestArtifact is manifest.json: every node, the graph's edges and the macros.
func (l *Project) ManifestArtifact() *artifacts.Manifest {
	ids := l.Manifest.Sorted()
	am := &artifacts.Manifest{Version: artifacts.ManifestVersion, Project: l.Project.Name, Target: l.Target.Name,
		Nodes: make(map[string]*artifacts.Node, len(ids)), Sources: map[string]*artifacts.Node{}, Exposure: map[string]*artifacts.Node{},
		Macros: map[string]*artifacts.Macro{}, Parents: make(map[string][]string, len(ids)), Children: make(map[string][]string, len(ids))}
	// Building a node's entry (its config encoded and hashed) is most of the
	// cost for a big project, and independent per node.
	ans := make([]*artifacts.Node, len(ids))
	par.For(len(ids), min(runtime.GOMAXPROCS(0), len(ids)/256), func(i int) {
		ans[i] = l.NodeArtifact(l.Manifest.Nodes[ids[i]])
	})
	for i, id := range ids {
		n, an := l.Manifest.Nodes[id], ans[i]
		switch n.Kind {
		case manifest.Source:
			am.Sources[id] = an
		case manifest.Exposure:
			am.Exposure[id] = an
		default:
			am.Nodes[id] = an
		}
		am.Parents[id] = nonNil(l.Graph.Parents(id))
		am.Children[id] = nonNil(l.Graph.Children(id))
	}
	sums := map[string]string{}
	for _, f := range l.Project.Macros {
		sums[f.Path] = f.Checksum
	}
	for _, name := range l.Manifest.Macros.Names() {
		file := l.Manifest.Macros.File(name)
		am.Macros["macro."+l.Project.Name+"."+name] = &artifacts.Macro{Name: name, Path: file, Checksum: sums[file]}
	}
	return am
}

// WriteManifest writes target/manifest.json.
func (l *Project) WriteManifest() error {
	if err := artifacts.Folder(l.TargetDir()); err != nil {
		return err
	}
	return artifacts.WriteJSON(filepath.Join(l.TargetDir(), "manifest.json"), l.ManifestArtifact())
}

// WriteCompiled writes the compiled SQL of the selected nodes that
// rendered to target/compiled/, and target/manifest.json; it returns how
// many files it wrote to target/compiled/.
func (l *Project) WriteCompiled(selected map[string]bool) (int, error) {
	targetDir := l.TargetDir()
	// The manifest is encoded while the compiled files are listed and created:
	// the files cost the kernel, the manifest the CPU.
	manifestErr := make(chan error, 1)
	go func() { manifestErr <- l.WriteManifest() }()
	var ids []string
	for _, id := range l.Manifest.Sorted() {
		if _, ok := l.Compiled[id]; ok && selected[id] {
			ids = append(ids, id)
		}
	}
	compiledDir := filepath.Join(targetDir, "compiled")
	files := make([]artifacts.File, len(ids))
	pathErrs := make([]error, len(ids))
	par.For(len(ids), min(runtime.GOMAXPROCS(0), len(ids)/256), func(i int) {
		p, err := compile.Path(compiledDir, l.Manifest.Nodes[ids[i]])
		files[i], pathErrs[i] = artifacts.File{Path: p, Text: l.Compiled[ids[i]].SQL}, err
	})
	err := errors.Join(pathErrs...)
	if err == nil {
		_, err = artifacts.WriteFiles(files, compileWriters)
	}
	if merr := <-manifestErr; err == nil {
		err = merr
	}
	return len(ids), err
}

// compileWriters is how many goroutines write target/compiled/. Creating a
// file mostly waits on the file system's locks and journal: on 2 cores, 2
// writers cost the least system time (8, as before, cost twice as much).
const compileWriters = 2

// WriteResults writes target/run_results.json, merges its results into
// target/node_results.json (each node's latest result) and, for test and
// build, writes target/junit.xml, for the run of command cmd that started
// at started.
// It returns one error for each file it could not write.
func (l *Project) WriteResults(cmd string, started time.Time, results []run.Result) []error {
	return l.writeResults(cmd, started, nil, "", results, nil)
}

// writeResults is WriteResults of the run runID given args, which
// run_results.json records for retry; refused are the nodes its check
// (build --check) failed, which junit.xml reports as failing cases.
func (l *Project) writeResults(cmd string, started time.Time, args *artifacts.RunArgs, runID string, results, refused []run.Result) []error {
	targetDir := l.TargetDir()
	rr := artifacts.RunResults{Command: cmd, Args: args, StartedAt: started.UTC().Format(time.RFC3339), ElapsedTime: time.Since(started).Seconds(), Target: l.Target.Name, Env: l.Env(), RunID: runID}
	sorted := append([]run.Result(nil), results...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for _, r := range sorted {
		ar := l.resultArtifact(r)
		rr.Results = append(rr.Results, ar)
		switch r.Status {
		case run.Success, run.Pass:
			rr.Summary.Pass++
		case run.Warn:
			rr.Summary.Warn++
		case run.Fail:
			rr.Summary.Fail++
		case run.Error:
			rr.Summary.Error++
		case run.Skipped:
			rr.Summary.Skip++
		}
	}
	var errs []error
	if kept, err := artifacts.EndRun(targetDir, &rr); err != nil {
		errs = append(errs, err)
	} else if kept != nil {
		own, _ := filepath.Rel(l.Dir, filepath.Join(artifacts.RunDir(targetDir, rr.Target, rr.Env), "run_results.json"))
		errs = append(errs, fmt.Errorf("target/run_results.json keeps the record of the run of strata %s on %s that started at %s in this folder after this one and has not ended (strata retry is for that run); this run's results are in %s (%s retries it) and target/%s",
			kept.Command, RunPlace(kept.Target, kept.Env), kept.StartedAt, filepath.ToSlash(own), RetryCommand(rr.Target, rr.Env), artifacts.NodeResultsFile))
	}
	// Each node's latest result, across commands, for the docs site.
	inProject := func(id string) bool { _, ok := l.Manifest.Nodes[id]; return ok }
	if err := artifacts.UpdateNodeResults(targetDir, &rr, inProject); err != nil {
		errs = append(errs, fmt.Errorf("writing %s: %w", artifacts.NodeResultsFile, err))
	}
	if writesJUnit(cmd) {
		if err := artifacts.WriteJUnit(filepath.Join(targetDir, "junit.xml"), l.junit(cmd, sorted, refused, "--check")); err != nil {
			errs = append(errs, fmt.Errorf("writing junit.xml: %w", err))
		}
	}
	return errs
}

// writesJUnit says whether a run of cmd writes target/junit.xml.
func writesJUnit(cmd string) bool { return cmd == "test" || cmd == "build" }

// junit is target/junit.xml of a run of cmd whose results are sorted: the
// data tests in one suite, the unit tests in another, the nodes its check
// refused (build --check) in a third and the other nodes that ended in
// error (a model, seed or snapshot, an on-run-start or on-run-end hook) in
// a fourth, each a failing case: a CI test report of a run that failed is
// red, as the job is, and names what to fix (a test the check refused is
// there, not among the data tests, which the run skipped). A check that
// ended in an error before it had a result for each node is a failing
// case of the check's suite too (CheckEnded). Nodes that
// passed or were skipped are not listed but as tests.
// checkFlag is the flag whose check refused them: --check, or --empty.
func (l *Project) junit(cmd string, sorted, refused []run.Result, checkFlag string) *artifacts.JUnit {
	junit := &artifacts.JUnit{Name: "strata " + cmd}
	suites := []*artifacts.JUnitSuite{{Name: l.Project.Name + " data tests"}, {Name: l.Project.Name + " unit tests"},
		{Name: l.Project.Name + " check (" + checkFlag + ")"}, {Name: l.Project.Name + " nodes"}}
	inCheck := map[string]bool{}
	// failed adds node r's failing case to suite, of type typ, its
	// message r's (which says where, at the file and line). A hook is
	// grouped under its file, project.yaml.
	failed := func(suite *artifacts.JUnitSuite, r run.Result, typ string) {
		name, class := r.ID, "project"
		if n, ok := l.Manifest.Nodes[r.ID]; ok {
			name, class = n.Name, l.junitClass(n)
		}
		suite.Tests++
		suite.Failures++
		suite.Time += r.Duration.Seconds()
		suite.Cases = append(suite.Cases, artifacts.JUnitCase{Name: name, ClassName: class, Time: millis(r.Duration.Seconds()),
			Failure: &artifacts.JUnitMessage{Message: firstLineOf(r.Message), Type: typ, Text: r.Message}})
	}
	// An error is placed at its node's file (and line), as printed, also
	// when the database's error had no position in the SQL (a constraint
	// violated by the load).
	placed := func(r run.Result) run.Result {
		if n, ok := l.Manifest.Nodes[r.ID]; ok {
			r.Message = PlacedMessage(n, r)
		}
		return r
	}
	for _, r := range refused {
		if _, ok := l.Manifest.Nodes[r.ID]; !ok && r.ID != CheckEnded {
			continue
		}
		inCheck[r.ID] = true
		failed(suites[2], r, "check")
	}
	for _, r := range sorted {
		if r.Status != run.Error || inCheck[r.ID] {
			continue
		}
		switch n, ok := l.Manifest.Nodes[r.ID]; {
		case ok && n.Kind != manifest.Test:
			failed(suites[3], placed(r), string(n.Kind))
		case !ok && (r.ID == OnRunStart || r.ID == OnRunEnd):
			failed(suites[3], r, "hook")
		}
	}
	for _, r := range sorted {
		n, ok := l.Manifest.Nodes[r.ID]
		if !ok || n.Kind != manifest.Test || inCheck[r.ID] {
			continue
		}
		tc := artifacts.JUnitCase{Name: n.Name, ClassName: l.junitClass(n), Time: millis(r.Duration.Seconds())}
		suite, failing := suites[0], "failing"
		if n.IsUnit() {
			suite, failing = suites[1], "differing"
			tc.ClassName = l.Project.Name + ".unit." + n.Unit.Model
		}
		suite.Tests++
		suite.Time += r.Duration.Seconds()
		switch r.Status {
		case run.Fail:
			tc.Failure = &artifacts.JUnitMessage{Message: fmt.Sprintf("%d %s %s", r.Failures, failing, rowsWord(r.Failures)), Type: "fail", Text: r.Message}
			suite.Failures++
		case run.Error:
			msg := PlacedMessage(n, r)
			tc.Error = &artifacts.JUnitMessage{Message: firstLineOf(msg), Type: "error", Text: msg}
			suite.Errors++
		case run.Skipped:
			tc.Skipped = &artifacts.JUnitMessage{Message: r.Message}
			suite.Skipped++
		case run.Warn:
			tc.SystemOut = fmt.Sprintf("warning: %d failing %s; %s", r.Failures, rowsWord(r.Failures), r.Message)
		}
		suite.Cases = append(suite.Cases, tc)
	}
	for i, suite := range suites {
		// The data suite is always there (CI expects a suite), the unit
		// suite when the run had unit tests, the check's when it refused
		// a node, the nodes' when one failed.
		if i > 0 && suite.Tests == 0 {
			continue
		}
		suite.Time = millis(suite.Time)
		junit.Tests += suite.Tests
		junit.Failures += suite.Failures
		junit.Errors += suite.Errors
		junit.Skipped += suite.Skipped
		junit.Time = millis(junit.Time + suite.Time)
		junit.Suites = append(junit.Suites, *suite)
	}
	return junit
}

// resultArtifact is r as run_results.json has it.
func (l *Project) resultArtifact(r run.Result) artifacts.Result {
	kind := ""
	n, ok := l.Manifest.Nodes[r.ID]
	if ok {
		kind = string(n.Kind)
	}
	ar := artifacts.Result{ID: r.ID, ResourceType: kind, Status: string(r.Status), Message: r.Message, AdapterResp: r.Response,
		Rows: r.Rows, ExecutionTime: r.Duration.Seconds(), Compiled: r.Compiled, Executed: r.Executed, Attempts: r.Attempts}
	if r.Status == run.Error && r.Message != "" {
		// As printed: a hook's error, not a node's, starts with its place
		// in project.yaml already.
		ar.PlacedMessage = r.Message
		if ok {
			ar.PlacedMessage = PlacedMessage(n, r)
		}
	}
	if r.Relation.Name != "" {
		// Quoted, as manifest.json's relation_name: "public"."order" is
		// a name SQL can use, public.order is not.
		ar.Relation = r.Relation.Quoted()
	}
	if !r.Started.IsZero() {
		ar.StartedAt = r.Started.UTC().Format(time.RFC3339Nano)
	}
	if kind == "test" {
		f := r.Failures
		ar.Failures = &f
	}
	return ar
}

// RunRecord records a run in target/ while it goes on (StartResults).
type RunRecord struct {
	l       *Project
	p       *artifacts.Progress
	cmd     string
	started time.Time
	args    *artifacts.RunArgs
	id      string
}

// RunPlace says where a run built: "target prod", "environment pr_1 of target prod".
func RunPlace(target, env string) string {
	if env != "" {
		return fmt.Sprintf("environment %s of target %s", env, target)
	}
	return "target " + target
}

// RetryCommand is the command that retries the last run on target in env:
// strata retry --target prod --env pr_1.
func RetryCommand(target, env string) string {
	cmd := "strata retry --target " + shellWord(target)
	if env != "" {
		cmd += " --env " + shellWord(env)
	}
	return cmd
}

// shellWord is s as one word of a shell command line: in single quotes
// unless it needs none.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@=+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// StartResults records in target/run_results.json that a run of cmd,
// given args, starts on the nodes of order, none of them finished yet;
// End records each node as it ends. So a run that is killed leaves a
// truthful record, which retry completes; WriteRunResults replaces it
// when the run ends.
// The record is never nil: when target/ cannot be written, the error
// says so, and the run's end writes what it can.
func (l *Project) StartResults(cmd string, started time.Time, args *artifacts.RunArgs, order []string) (*RunRecord, error) {
	rec := &RunRecord{l: l, cmd: cmd, started: started, args: args, id: newRunID()}
	rr := &artifacts.RunResults{Command: cmd, Args: args, StartedAt: started.UTC().Format(time.RFC3339), Target: l.Target.Name, Env: l.Env(),
		RunID: rec.id, Results: make([]artifacts.Result, 0, len(order))}
	ids := append([]string(nil), order...)
	sort.Strings(ids)
	pending := make([]run.Result, 0, len(ids))
	for _, id := range ids {
		r := run.Result{ID: id, Status: run.Skipped, Message: artifacts.NotFinished}
		pending = append(pending, r)
		ar := l.resultArtifact(r)
		ar.Failures = nil
		rr.Results = append(rr.Results, ar)
	}
	p, err := artifacts.StartProgress(l.TargetDir(), rr)
	if err != nil {
		return rec, fmt.Errorf("writing run_results.json: %w", err)
	}
	rec.p = p
	// junit.xml is rewritten as the run starts too, its tests not finished:
	// a CI job killed mid-run then uploads this run's record, not the
	// previous run's passing tests.
	if writesJUnit(cmd) {
		if err := artifacts.WriteJUnit(filepath.Join(l.TargetDir(), "junit.xml"), l.junit(cmd, pending, nil, "")); err != nil {
			return rec, fmt.Errorf("writing junit.xml: %w", err)
		}
	}
	return rec, nil
}

// newRunID is a run's run_id: 16 random hexadecimal digits.
func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// End records that a node ended with r. A record that cannot be written
// is dropped: the run goes on, and its end writes the whole record.
func (rec *RunRecord) End(r run.Result) {
	if rec.p != nil {
		_ = rec.p.Add(rec.l.resultArtifact(r))
	}
}

// Close stops recording.
func (rec *RunRecord) Close() {
	if rec.p != nil {
		_ = rec.p.Close()
	}
}

// Finish stops recording and writes the run's results (WriteResults):
// the run ended with results.
func (rec *RunRecord) Finish(results []run.Result) []error {
	rec.Close()
	return rec.l.writeResults(rec.cmd, rec.started, rec.args, rec.id, results, nil)
}

// FinishRefused is Finish of a run whose check (build --check) failed
// and that built nothing: refused are the nodes the check failed, each
// with the check's message, which junit.xml reports as failing cases.
func (rec *RunRecord) FinishRefused(results, refused []run.Result) []error {
	rec.Close()
	return rec.l.writeResults(rec.cmd, rec.started, rec.args, rec.id, results, refused)
}

// WriteEmptyJUnit writes target/junit.xml of a run of cmd with --empty,
// which builds nothing and records no run but its check: each node of
// order skipped, each node of refused (the check failed it) a failing
// case, so that CI does not read an earlier run's junit.xml as this run's.
// With checked false (the check did not finish), it removes junit.xml.
// Commands that write no junit.xml (run, seed) leave it as it is.
func (l *Project) WriteEmptyJUnit(cmd string, order []string, checked bool, refused []run.Result) error {
	file := filepath.Join(l.TargetDir(), "junit.xml")
	if !writesJUnit(cmd) {
		return nil
	}
	if !checked {
		if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing junit.xml: %w", err)
		}
		return nil
	}
	ids := append([]string(nil), order...)
	sort.Strings(ids)
	skipped := make([]run.Result, 0, len(ids))
	for _, id := range ids {
		skipped = append(skipped, run.Result{ID: id, Status: run.Skipped, Message: "skipped: --empty builds and tests nothing"})
	}
	if err := artifacts.WriteJUnit(file, l.junit(cmd, skipped, refused, "--empty")); err != nil {
		return fmt.Errorf("writing junit.xml: %w", err)
	}
	return nil
}

// junitClass is a test's classname in junit.xml, which CI systems show as
// the test's group: the file of the node it tests, without its extension,
// with dots (models.analytics.daily_sales); for a source table's test
// sources.<source>.<table>; for a singular test that tests no one node,
// its own file's (tests.orders_have_customers).
func (l *Project) junitClass(test *manifest.Node) string {
	n := test
	if ti := test.TestInfo; ti != nil && ti.Attached != "" {
		if tested, ok := l.Manifest.Nodes[ti.Attached]; ok {
			n = tested
		}
	}
	if n.Kind == manifest.Source {
		return "sources." + n.Name
	}
	return strings.ReplaceAll(strings.TrimSuffix(n.Path, path.Ext(n.Path)), "/", ".")
}

// millis is sec seconds rounded to the millisecond: what junit.xml says.
// rowsWord is "row" or "rows", for n of them.
func rowsWord(n int64) string {
	if n == 1 {
		return "row"
	}
	return "rows"
}

func millis(sec float64) float64 {
	return math.Round(sec*1000) / 1000
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// PlacedMessage is the message of node n's result r as strata prints it
// and junit.xml holds it: an error names the file it comes from, and for
// a generic test, declared in a YAML file among others, the line of its
// declaration; a message placed already (in the node's file, or in the
// YAML that set a config: r.Placed) is kept as it is.
func PlacedMessage(n *manifest.Node, r run.Result) string {
	if r.Status != run.Error || r.Message == "" {
		return r.Message
	}
	where := n.Path
	if n.Kind == manifest.Test && n.Template == nil && n.Pos.Line > 0 {
		where = fmt.Sprintf("%s:%d", n.Path, n.Pos.Line)
	}
	if where == "" || r.Placed || strings.HasPrefix(r.Message, n.Path+":") {
		return r.Message
	}
	return where + ": " + r.Message
}
