// Package pipeline is the way from a project folder to what a command acts
// on, as a library that the CLI, the docs and the tests call alike: Load
// reads the project, resolves the target, assembles the manifest and the
// graph, renders every node and checks hooks and seed headers; Select
// applies a selection; Schedule orders the selected nodes with the edges a
// run honours; Connect, RunHooks and Walk drive a run through the adapter
// and the walker; the rest writes the artifacts of target/.
//
// It never prints and never decides an exit code: problems come back as
// diagnostics and errors, progress through the callbacks it is given.
// Flags, help text and printing belong to the CLI.
//
// Where the next features go: a command that proves or unit-tests models in
// a rolled-back transaction (check, unit tests) is a method here beside
// Walk, on a Schedule; an edge of the walk (a model waits for its unit
// tests, or audits its new relation before publishing) is in Schedule; an
// environment or deferral changes the target in ResolveTarget (the schemas
// every relation is placed in, through manifest.Target) and the relations
// refs render as, which the compiler resolves in one method.
package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"strata/engine/compile"
	"strata/engine/diag"
	"strata/engine/graph"
	"strata/engine/internal/par"
	"strata/engine/manifest"
	"strata/engine/pgname"
	"strata/engine/project"
	"strata/engine/state"
)

// Options say what to load and how: the command line's --project-dir,
// --target and --vars.
type Options struct {
	// Dir is the project's folder.
	Dir string
	// Target names the target; "" means STRATA_TARGET, then project.yaml's
	// target:, then the only one defined, or the built-in local one.
	Target string
	// Vars is a YAML mapping of vars that override project.yaml's.
	Vars string
	// LookupEnv reads the environment (env_var, STRATA_TARGET); nil is
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Env is the environment to build in (--env): every model and seed is
	// placed in its schema suffixed __<Env>. "" is production.
	Env string
	// StartedAt is the run's start, which run_started_at renders (whole
	// seconds, UTC); zero means now.
	StartedAt time.Time
}

// Project is a project read, assembled, graphed and rendered: what every
// command that reads a project starts from.
type Project struct {
	// Dir is the project's folder, absolute.
	Dir     string
	Project *project.Project
	// Target is the target the project runs on, its settings rendered.
	Target   *project.Target
	Manifest *manifest.Manifest
	Graph    *graph.Graph
	// Compiler renders nodes again (an incremental model at run time).
	Compiler *compile.Compiler
	// Compiled holds every model and test that rendered, by id (is_incremental false).
	Compiled map[string]compile.Result
	// Vars are project.yaml's vars with Options.Vars over them.
	Vars map[string]any
	// check is target/check.json, read when first needed.
	check checkState
	// prod is production's record of each node in the target, once
	// ReadState has read it.
	prod map[string]*state.Node
	// own is the environment's own record of each node it built.
	own map[string]*state.Node
}

// Load reads the project in opts.Dir and renders every node, reporting all
// the problems of every phase at once, sorted. The project is unusable
// when the diagnostics hold an error; it is nil when project.yaml could not
// be read or --vars (opts.Vars) is wrong, which is then the only problem.
func Load(opts Options) (*Project, diag.List) {
	lookupEnv := opts.LookupEnv
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	var diags diag.List
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		diags.Errorf(diag.Pos{}, "--project-dir: %v", err)
		return nil, diags
	}
	// --vars is read first, and a mistake in it is reported alone: every
	// template that reads a var it was meant to set would fail too, saying
	// the var is not defined, and hide it.
	var over map[string]any
	if opts.Vars != "" {
		over, err = project.DecodeVars(opts.Vars)
		var limit *project.VarLimitError
		var key *project.VarKeyError
		var syntax *project.VarSyntaxError
		if errors.As(err, &limit) || errors.As(err, &key) {
			diags.Errorf(diag.Pos{}, "--vars: %v", err)
		} else if errors.As(err, &syntax) {
			diags.Errorf(diag.Pos{}, "--vars: %v (expected a YAML mapping, e.g. --vars '{start_date: 2024-01-01, regions: [north, south]}', quoted whole for the shell)", err)
		} else if err != nil {
			diags.Errorf(diag.Pos{}, "--vars: not a YAML mapping: %v (expected e.g. --vars 'start_date: 2024-01-01')", err)
		}
		if diags.HasErrors() {
			return nil, diags
		}
	}
	if d, missing := project.Missing(dir); missing {
		return nil, append(diags, d)
	}
	proj, d := project.Load(os.DirFS(dir))
	diags = append(diags, d...)
	if proj == nil {
		return nil, diags
	}
	vars := map[string]any{}
	for k, v := range proj.Vars {
		vars[k] = v
	}
	for k, v := range over {
		vars[k] = v
	}
	// A target setting that fails to render is reported, but it does not
	// make project.yaml a file with problems: the hooks there still render
	// (with a placeholder target), and validate reports their errors in the
	// same run.
	var targetDiags diag.List
	tgt, err := ResolveTarget(proj, opts.Target, vars, lookupEnv)
	if err != nil && !errors.Is(err, errReported) {
		targetDiags.Add(diag.Pos{File: "project.yaml"}, err)
	}
	mt := manifestTarget(tgt)
	mt.Env = opts.Env
	man, d := manifest.Build(proj, mt)
	var envErr error
	if opts.Env != "" && man != nil {
		envErr = pgname.CheckEnv(opts.Env, envSchemas(man))
	}
	if envErr != nil {
		// Alone: the schemas too long for the name, one per model, are
		// what it says.
		diags.Errorf(diag.Pos{}, "--env: %v", envErr)
	} else {
		diags = append(diags, d...)
	}
	gr, d := graph.New(man)
	diags = append(diags, d...)
	l := &Project{Dir: dir, Project: proj, Target: tgt, Manifest: man, Graph: gr, Vars: vars, Compiled: map[string]compile.Result{}}
	started := opts.StartedAt
	if started.IsZero() {
		started = time.Now()
	}
	l.Compiler = &compile.Compiler{M: man, Vars: vars, LookupEnv: lookupEnv, RunStartedAt: started.UTC().Format(time.RFC3339)}
	if gr != nil {
		gr.Columns = l.ColumnUsage
	}
	// Render every node whose files had no problem so far, so that one run
	// reports a render error (an undefined var) beside a missing ref elsewhere.
	// Files with problems are not rendered: their errors would only repeat.
	bad := map[string]bool{}
	for _, d := range diags {
		if d.Severity == diag.Error {
			bad[d.Pos.File] = true
		}
	}
	diags = append(diags, targetDiags...)
	if man != nil {
		diags = append(diags, checkSeedHeaders(dir, man, bad)...)
		diags = append(diags, l.render(bad)...)
		diags = append(diags, l.checkRunHooks(bad)...)
	}
	diags.Sort()
	return l, diags
}

// render renders every model and test whose files are not bad and whose
// dependencies exist, keeping the results in l.Compiled, and checks each
// model's pre and post hooks.
func (l *Project) render(bad map[string]bool) diag.List {
	var diags diag.List
	man := l.Manifest
	var todo []*manifest.Node
	for _, id := range man.Sorted() {
		n := man.Nodes[id]
		if n.Kind != manifest.Model && n.Kind != manifest.Test || n.IsUnit() {
			continue
		}
		if bad[n.Path] || n.Kind == manifest.Model && n.Template == nil || !depsOK(man, n) {
			continue
		}
		todo = append(todo, n)
	}
	// Rendering is independent per node and templates render concurrently,
	// so the nodes are shared out to one goroutine per CPU; results keep
	// the sorted order.
	type rendered struct {
		res   compile.Result
		err   error
		hooks diag.List
	}
	out := make([]rendered, len(todo))
	par.For(len(todo), min(runtime.GOMAXPROCS(0), len(todo)/64), func(i int) {
		out[i].res, out[i].err = l.Compiler.Node(todo[i], compile.Options{})
		if todo[i].Kind == manifest.Model {
			out[i].hooks = l.Compiler.CheckHooks(todo[i])
		}
	})
	for i, n := range todo {
		diags = append(diags, out[i].hooks...)
		if out[i].err != nil {
			diags.Add(n.Pos, overriddenOnlyInTests(man, n, out[i].err))
			continue
		}
		l.Compiled[n.ID] = out[i].res
	}
	return diags
}

// overriddenOnlyInTests adds to err, model n's render error for an
// environment variable that is not set or a var that is not defined, that
// the unit tests of n that override it do so only while they render n:
// every model is rendered as the project is read, without them, so they
// cannot run either until it is set or has a default.
func overriddenOnlyInTests(man *manifest.Manifest, n *manifest.Node, err error) error {
	var d diag.Diagnostic
	if n.Kind != manifest.Model || !errors.As(err, &d) {
		return err
	}
	var tests []string
	key, fix := "", ""
	for _, u := range man.Nodes {
		if !u.IsUnit() || u.Unit.Model != n.Name {
			continue
		}
		for k := range u.Unit.Overrides.EnvVars {
			if strings.HasPrefix(d.Msg, "environment variable "+k+" is not set (") {
				tests, key = append(tests, fmt.Sprintf("%s (%s)", u.Unit.Name, u.Unit.Pos)), "env_vars"
				fix = fmt.Sprintf("set %s or give env_var a default", k)
			}
		}
		for k := range u.Unit.Overrides.Vars {
			if strings.HasPrefix(d.Msg, fmt.Sprintf("var %q is not defined (", k)) {
				tests, key = append(tests, fmt.Sprintf("%s (%s)", u.Unit.Name, u.Unit.Pos)), "vars"
				fix = fmt.Sprintf("define %s under vars: in project.yaml or give var a default", k)
			}
		}
	}
	if len(tests) == 0 {
		return err
	}
	slices.Sort(tests)
	d.Msg += fmt.Sprintf(". Unit test %s overrides it (overrides: %s) only while the test renders the model; strata renders every model without overrides when it reads the project, so %s for the test to run", strings.Join(tests, ", "), key, fix)
	return d
}

// checkRunHooks renders the on-run-start and on-run-end hooks, so that a
// template error in one is reported before anything runs.
func (l *Project) checkRunHooks(bad map[string]bool) diag.List {
	var diags diag.List
	for _, hooks := range [][]project.Hook{l.Project.OnRunStart, l.Project.OnRunEnd} {
		for _, h := range hooks {
			if bad[h.Pos.File] {
				continue
			}
			if _, err := l.Compiler.HookAt(h.Pos.File, h.Text, h.SQL, ""); err != nil {
				diags.Add(h.Pos, err)
			}
		}
	}
	return diags
}

// depsOK reports whether every node n depends on is in the manifest, its
// template parsed without problems, and every ref and source of its
// template (those of the macros it includes too) names one: the manifest
// reported those that do not, at their place, and rendering n would only
// report them again.
func depsOK(man *manifest.Manifest, n *manifest.Node) bool {
	for _, dep := range n.DependsOn {
		if _, ok := man.Nodes[dep]; !ok {
			return false
		}
	}
	if n.Template == nil {
		return true
	}
	if n.Template.Invalid {
		// A problem in a macro it includes, reported there.
		return false
	}
	for _, r := range n.Template.Refs {
		if _, ok := man.Lookup(r.Args[0]); !ok {
			return false
		}
	}
	for _, s := range n.Template.Sources {
		if _, ok := man.SourceNode(s.Args[0], s.Args[1]); !ok {
			return false
		}
	}
	return true
}

// TargetDir is the project's target/ folder, where artifacts go.
func (l *Project) TargetDir() string { return filepath.Join(l.Dir, "target") }
