// Package cli is strata's command line: one pflag.FlagSet per command, the
// loading of a project into a graph, the connection to the target, and the
// only place that prints. Main returns the exit code instead of exiting.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"strata/engine/compile"
	"strata/engine/diag"
	"strata/engine/graph"
	"strata/engine/internal/par"
	"strata/engine/manifest"
	"strata/engine/project"
	"strata/engine/template"
)

// Exit codes of SPEC 7.
const (
	ExitOK        = 0
	ExitFailed    = 1
	ExitBadInput  = 2
	ExitCancelled = 130
)

// Version is strata's version, printed by --version.
var Version = "0.1.0"

type command struct {
	name  string
	usage string
	run   func(ctx context.Context, a *app, args []string) int
}

func commands() []command {
	return []command{
		{"seed", "load seeds/*.csv into their tables", cmdSeed},
		{"run", "build the selected models", cmdRun},
		{"test", "run the selected data tests", cmdTest},
		{"build", "seeds, models and tests together, in graph order", cmdBuild},
		{"compile", "render everything to target/compiled/ (no database)", cmdCompile},
		{"validate", "check everything that needs no database; all problems at once", cmdValidate},
		{"ls", "list selected resources", cmdLs},
		{"retry", "rerun what failed or was skipped in the last run", cmdRetry},
		{"docs", "an offline site: docs generate | docs serve [--port N]", cmdDocs},
		{"debug", "check the project and the connection", cmdDebug},
		{"db", "manage the local PostgreSQL cluster: start, stop, status, url, psql", cmdDB},
		{"clean", "remove target/", cmdClean},
	}
}

// app is what every command shares: where to print and the global flags.
type app struct {
	stdout, stderr io.Writer
	projectDir     string
	target         string
	logFormat      string
	noColor        bool
}

// Main runs strata with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "strata: internal error (please report it): %v\n", p)
			code = ExitFailed
		}
	}()
	a := &app{stdout: stdout, stderr: stderr, projectDir: ".", logFormat: "text"}
	// Global flags may come before the command.
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		switch arg := args[i]; {
		case arg == "-h" || arg == "--help":
			a.usage(stdout)
			return ExitOK
		case arg == "--version":
			fmt.Fprintln(stdout, "strata", Version)
			return ExitOK
		case arg == "--no-color":
			a.noColor = true
		case arg == "--project-dir" || arg == "--target" || arg == "--log-format":
			if i+1 >= len(args) {
				fmt.Fprintf(stderr, "strata: %s needs a value\n", arg)
				return ExitBadInput
			}
			a.setGlobal(arg[2:], args[i+1])
			i++
		case strings.HasPrefix(arg, "--project-dir=") || strings.HasPrefix(arg, "--target=") || strings.HasPrefix(arg, "--log-format="):
			k, v, _ := strings.Cut(arg[2:], "=")
			a.setGlobal(k, v)
		default:
			fmt.Fprintf(stderr, "strata: unknown flag %s before the command\n", arg)
			a.usage(stderr)
			return ExitBadInput
		}
		i++
	}
	if i >= len(args) {
		a.usage(stderr)
		return ExitBadInput
	}
	name, rest := args[i], args[i+1:]
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
		if c.name == name {
			return c.run(ctx, a, rest)
		}
	}
	fmt.Fprintf(stderr, "strata: unknown command %q%s\n", name, diag.DidYouMean(name, names))
	a.usage(stderr)
	return ExitBadInput
}

func (a *app) setGlobal(k, v string) {
	switch k {
	case "project-dir":
		a.projectDir = v
	case "target":
		a.target = v
	case "log-format":
		a.logFormat = v
	}
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintln(w, "usage: strata [--project-dir DIR] [--target NAME] COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nRun 'strata COMMAND --help' for a command's flags.")
}

// flags is the set of flags a command accepts; global flags are accepted after the command too.
type flags struct {
	fs          *pflag.FlagSet
	selects     []string
	excludes    []string
	fullRefresh bool
	fullSCD2    bool
	threads     int
	vars        string
	failFast    bool
	empty       bool
	state       string
	output      string
	noWait      bool
	port        int
	// retryIDs, set by retry, selects exactly these nodes instead of
	// --select: ids need no parsing, and names may hold spaces.
	retryIDs []string
	// retryHooks, set by retry, runs the hooks even when no node is
	// selected, because the last run's on-run-end hook failed.
	retryHooks bool
}

func (a *app) newFlags(name string, withSelect bool) *flags {
	f := &flags{fs: pflag.NewFlagSet(name, pflag.ContinueOnError)}
	f.fs.SetOutput(a.stderr)
	f.fs.StringVar(&a.projectDir, "project-dir", a.projectDir, "the project's folder")
	f.fs.StringVar(&a.target, "target", a.target, "the target to use (default: project.yaml's target:, or STRATA_TARGET)")
	f.fs.StringVar(&a.logFormat, "log-format", a.logFormat, "text or json")
	f.fs.BoolVar(&a.noColor, "no-color", a.noColor, "no colours in the output")
	f.fs.StringVar(&f.vars, "vars", "", "YAML mapping of vars that override project.yaml's, e.g. 'start_date: 2024-01-01'")
	if withSelect {
		f.fs.StringArrayVarP(&f.selects, "select", "s", nil, "nodes to include (see SPEC 7)")
		f.fs.StringArrayVar(&f.excludes, "exclude", nil, "nodes to leave out")
		f.fs.StringVar(&f.state, "state", "", "folder with an earlier manifest.json / run_results.json, for state: and result: selectors")
	}
	return f
}

func (f *flags) addRunFlags() {
	f.fs.BoolVar(&f.fullRefresh, "full-refresh", false, "rebuild incremental models and reload unchanged seeds")
	f.fs.BoolVar(&f.fullSCD2, "full-refresh-scd2", false, "allow --full-refresh to rebuild scd2 models, destroying their history")
	f.fs.IntVar(&f.threads, "threads", 0, "how many nodes to build at once (default: the target's threads)")
	f.fs.BoolVar(&f.failFast, "fail-fast", false, "stop at the first failure")
	f.fs.BoolVar(&f.empty, "empty", false, "build every model with zero rows (checks all SQL quickly)")
	f.fs.BoolVar(&f.noWait, "no-wait", false, "fail instead of waiting when another run holds the target")
}

// parse parses args; it returns an exit code to return when parsing ended the command.
func (a *app) parse(f *flags, args []string) (int, bool) {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return ExitOK, true
		}
		fmt.Fprintf(a.stderr, "strata %s: %v\n", f.fs.Name(), err)
		return ExitBadInput, true
	}
	if a.logFormat != "text" && a.logFormat != "json" {
		fmt.Fprintf(a.stderr, "strata: --log-format must be text or json, got %q\n", a.logFormat)
		return ExitBadInput, true
	}
	// 0 is the flag's "not given" default, so only a given value is checked.
	if f.fs.Changed("threads") && f.threads < 1 {
		fmt.Fprintf(a.stderr, "strata %s: --threads must be at least 1, got %d\n", f.fs.Name(), f.threads)
		return ExitBadInput, true
	}
	return 0, false
}

// loaded is a project read, assembled, graphed and compiled.
type loaded struct {
	dir      string
	proj     *project.Project
	target   *project.Target
	man      *manifest.Manifest
	gr       *graph.Graph
	comp     *compile.Compiler
	compiled map[string]compile.Result
	vars     map[string]any
}

// load reads the project and compiles every node. Problems are printed; ok=false means exit 2.
func (a *app) load(f *flags) (*loaded, diag.List, bool) {
	var diags diag.List
	dir, err := filepath.Abs(a.projectDir)
	if err != nil {
		diags.Errorf(diag.Pos{}, "--project-dir: %v", err)
		return nil, diags, false
	}
	proj, d := project.Load(os.DirFS(dir))
	diags = append(diags, d...)
	if proj == nil {
		return nil, diags, false
	}
	vars := map[string]any{}
	for k, v := range proj.Vars {
		vars[k] = v
	}
	if f != nil && f.vars != "" {
		over, err := project.DecodeVars(f.vars)
		if err != nil {
			diags.Errorf(diag.Pos{}, "--vars: not a YAML mapping: %v (expected e.g. --vars 'start_date: 2024-01-01')", err)
		}
		for k, v := range over {
			vars[k] = v
		}
	}
	// A target setting that fails to render is reported, but it does not
	// make project.yaml a file with problems: the hooks there still render
	// (with a placeholder target), and validate reports their errors in the
	// same run.
	var targetDiags diag.List
	tgt, err := a.resolveTarget(proj, vars)
	if err != nil && !errors.Is(err, errReported) {
		targetDiags.Add(diag.Pos{File: "project.yaml"}, err)
	}
	mt := manifest.Target{Name: "dev", Type: "local"}
	if tgt != nil {
		mt = manifest.Target{Name: tgt.Name, Type: tgt.Type, Schema: tgt.Schema, SchemaPrefix: tgt.SchemaPrefix}
	}
	man, d := manifest.Build(proj, mt)
	diags = append(diags, d...)
	gr, d := graph.New(man)
	diags = append(diags, d...)
	l := &loaded{dir: dir, proj: proj, target: tgt, man: man, gr: gr, vars: vars, compiled: map[string]compile.Result{}}
	l.comp = &compile.Compiler{M: man, Vars: vars, LookupEnv: os.LookupEnv, RunStartedAt: time.Now().UTC().Format(time.RFC3339)}
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
		var todo []*manifest.Node
		for _, id := range man.Sorted() {
			n := man.Nodes[id]
			if n.Kind != manifest.Model && n.Kind != manifest.Test {
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
			out[i].res, out[i].err = l.comp.Node(todo[i], compile.Options{})
			if todo[i].Kind == manifest.Model {
				out[i].hooks = l.comp.CheckHooks(todo[i])
			}
		})
		for i, n := range todo {
			diags = append(diags, out[i].hooks...)
			if out[i].err != nil {
				diags.Add(n.Pos, out[i].err)
				continue
			}
			l.compiled[n.ID] = out[i].res
		}
		for _, hooks := range [][]project.Hook{proj.OnRunStart, proj.OnRunEnd} {
			for _, h := range hooks {
				if bad[h.Pos.File] {
					continue
				}
				if _, err := l.comp.HookAt(h.Pos.File, h.Text, h.SQL, ""); err != nil {
					diags.Add(h.Pos, err)
				}
			}
		}
	}
	diags.Sort()
	return l, diags, !diags.HasErrors()
}

// depsOK reports whether every node n depends on is in the manifest and, for
// ephemeral models that get inlined, itself renderable.
func depsOK(man *manifest.Manifest, n *manifest.Node) bool {
	for _, dep := range n.DependsOn {
		if _, ok := man.Nodes[dep]; !ok {
			return false
		}
	}
	return true
}

// printDiags prints problems; errors first sorted by position.
func (a *app) printDiags(diags diag.List) {
	for _, d := range diags {
		fmt.Fprintln(a.stderr, d.Error())
	}
	n := 0
	for _, d := range diags {
		if d.Severity == diag.Error {
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(a.stderr, "%d problem%s found; nothing was run\n", n, plural(n))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// errReported is an error already reported with a position by an earlier phase.
var errReported = errors.New("already reported")

// targetError names target t in err, a problem in one of its settings,
// keeping the positions err has.
func targetError(t *project.Target, err error) error {
	if err == nil {
		return nil
	}
	var found diag.List
	found.Add(t.Pos, err)
	for i := range found {
		found[i].Msg = fmt.Sprintf("target %s: %s", t.Name, found[i].Msg)
	}
	return found
}

// resolveTarget picks the target (--target, STRATA_TARGET, project.yaml's target:, or the built-in local one)
// and renders its settings.
func (a *app) resolveTarget(p *project.Project, vars map[string]any) (*project.Target, error) {
	name, from := a.target, "--target"
	if name == "" {
		name, from = os.Getenv("STRATA_TARGET"), "STRATA_TARGET"
	}
	if name == "" {
		name, from = p.DefaultTarget, ""
	}
	// A target chosen in project.yaml is reported at its target: key.
	at := diag.Pos{File: "project.yaml"}
	if from == "" && p.DefaultTargetPos.File != "" {
		at = p.DefaultTargetPos
	}
	if len(p.Targets) == 0 {
		if name != "" && name != "dev" {
			return nil, diag.Diagnostic{Pos: at, Msg: fmt.Sprintf("target %q is not defined (project.yaml has no targets:)", name)}
		}
		return &project.Target{Name: "dev", Type: "local", Schema: "public", Threads: 4}, nil
	}
	if name == "" {
		if len(p.Targets) == 1 {
			for n := range p.Targets {
				name = n
			}
		} else {
			names := make([]string, 0, len(p.Targets))
			for n := range p.Targets {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, diag.Diagnostic{Pos: at, Msg: fmt.Sprintf("no target chosen: set target: in project.yaml or pass --target (one of %s)", strings.Join(names, ", "))}
		}
	}
	t, ok := p.Targets[name]
	if !ok {
		if from == "" {
			return nil, errReported // the loader points at project.yaml's target:
		}
		names := make([]string, 0, len(p.Targets))
		for n := range p.Targets {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, diag.Diagnostic{Msg: fmt.Sprintf("%s %s: target %q is not defined in project.yaml (expected one of %s)%s", from, name, name, strings.Join(names, ", "), diag.DidYouMean(name, names))}
	}
	out := *t
	set, _ := template.ParseMacros(nil)
	var problems diag.List // of every setting, so validate reports them all
	for _, f := range []struct {
		key string
		s   *string
	}{{"url", &out.URL}, {"host", &out.Host}, {"port", &out.Port}, {"user", &out.User}, {"password", &out.Password}, {"dbname", &out.DBName}, {"schema", &out.Schema}, {"schema_prefix", &out.SchemaPrefix}} {
		if !strings.Contains(*f.s, "{{") {
			continue
		}
		// Errors point into project.yaml, at the setting's own text.
		tp, d := set.ParseAt("project.yaml", t.Origins[f.key], *f.s)
		var err error
		if err = d.Err(); err == nil {
			*f.s, _, err = tp.Render(template.Env{Vars: vars, LookupEnv: os.LookupEnv}, nil)
		}
		problems.Add(t.Pos, targetError(t, err))
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	if out.Schema == "" {
		out.Schema = "public"
	}
	if out.Threads == 0 {
		out.Threads = 4
	}
	return &out, nil
}
