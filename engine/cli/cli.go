// Package cli is strata's command line: one pflag.FlagSet per command, the
// only place that prints, and the exit codes. What a command does with a
// project (load, select, run, write artifacts) is engine/pipeline's; cli
// turns flags into its options and its results into output. Main returns
// the exit code instead of exiting.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"strata/engine/diag"
	"strata/engine/pipeline"
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
		{"check", "prove the selected models against the target's PostgreSQL; nothing is built", cmdCheck},
		{"plan", "what changed against production's recorded state, and what build would do; changes nothing", cmdPlan},
		{"env", "environments: env ls | env drop NAME", cmdEnv},
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
	// startedAt is the run's start (run_started_at), fixed for the whole
	// command; WithStartTime sets it, else it is now.
	startedAt time.Time
}

type startTimeKey struct{}

// WithStartTime makes the commands run with ctx start at t: run_started_at
// and the change times scd2 writes are t. Tests use it to run several
// commands at one instant without depending on the wall clock.
func WithStartTime(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, startTimeKey{}, t)
}

// Main runs strata with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "strata: internal error (please report it): %v\n", p)
			code = ExitFailed
		}
	}()
	a := &app{stdout: stdout, stderr: stderr, projectDir: ".", logFormat: "text", startedAt: time.Now()}
	if t, ok := ctx.Value(startTimeKey{}).(time.Time); ok {
		a.startedAt = t
	}
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
	check       bool
	state       string
	output      string
	noWait      bool
	audit       bool
	noAudit     bool
	port        int
	// env is the environment to build in (--env); noDefer builds what the
	// selection reads there too instead of reading it from production.
	env     string
	noDefer bool
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
	f.fs.BoolVar(&f.empty, "empty", false, "build nothing: check the selected SQL against the database, as strata check does")
	f.fs.BoolVar(&f.noWait, "no-wait", false, "fail instead of waiting when another run holds the target")
	f.fs.BoolVar(&f.audit, "audit", false, "run: test each model's new version before it replaces the old one, as build does")
	f.fs.BoolVar(&f.noAudit, "no-audit", false, "build: publish each model, then test it, instead of testing it first")
	f.addEnvFlags()
}

// audits says whether a run of cmd tests new versions before it publishes
// them (write-audit-publish): build does unless --no-audit, run with --audit.
func (f *flags) audits(cmd string) bool {
	if f.noAudit || f.empty {
		return false
	}
	return cmd == "build" || cmd == "run" && f.audit
}

// addEnvFlags adds --env and --no-defer (SPEC 12).
func (f *flags) addEnvFlags() {
	f.fs.StringVar(&f.env, "env", "", "build in environment NAME: schemas <schema>__NAME on the same target, reading what is not selected from production")
	f.fs.BoolVar(&f.noDefer, "no-defer", false, "with --env: build the selection's parents in the environment too instead of reading production's")
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

// load reads the project as the global flags and --vars say, rendering
// every node. ok=false means the project has problems (exit 2); the
// problems are returned, not printed.
func (a *app) load(f *flags) (l *pipeline.Project, diags diag.List, ok bool) {
	l, diags = pipeline.Load(pipeline.Options{Dir: a.projectDir, Target: a.target, Vars: f.vars, Env: f.env, StartedAt: a.startedAt})
	return l, diags, !diags.HasErrors()
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
