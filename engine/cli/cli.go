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
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"strata/engine/diag"
	"strata/engine/pipeline"
	"strata/engine/project"
)

// Exit codes (docs/commands.md#exit-codes).
const (
	ExitOK        = 0
	ExitFailed    = 1
	ExitBadInput  = 2
	ExitStopped   = 3 // db status: the local PostgreSQL is not running, as pg_ctl status says
	ExitCancelled = 130
)

// Version is strata's version, printed by --version.
var Version = "0.1.0"

// command is one of strata's commands: its name, the line that strata
// --help shows for it, and what runs it; helps holds the rest of its help.
type command struct {
	name  string
	usage string
	run   func(ctx context.Context, a *app, args []string) int
}

func commands() []command {
	return []command{
		{"build", "seeds, models and tests together, in graph order", cmdBuild},
		{"seed", "load the seeds' CSV files into tables", cmdSeed},
		{"run", "build the selected models", cmdRun},
		{"test", "run the selected data tests", cmdTest},
		{"retry", "run again what failed or was skipped in the last run", cmdRetry},
		{"compile", "render every template to target/compiled/ (no database)", cmdCompile},
		{"validate", "check everything that needs no database; all problems at once", cmdValidate},
		{"check", "prove the selected models against PostgreSQL; builds nothing", cmdCheck},
		{"plan", "what changed against production, and what build would do", cmdPlan},
		{"env", "environments: env ls | env drop NAME", cmdEnv},
		{"ls", "list the selected nodes", cmdLs},
		{"docs", "the documentation site: docs generate | docs serve", cmdDocs},
		{"debug", "check the project and the connection", cmdDebug},
		{"db", "manage the local PostgreSQL: start, stop, status, url, psql, destroy", cmdDB},
		{"clean", "remove target/ (--all: and the local PostgreSQL)", cmdClean},
		{"help", "this help, or a command's: strata help build", cmdHelp},
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
			if flag, _, _ := strings.Cut(arg, "="); dbtFlags[flag] != "" {
				fmt.Fprintf(stderr, "strata: unknown flag %s: %s\n", flag, dbtFlags[flag])
				return ExitBadInput
			}
			if fixed := commandFlagsAfter(args, i); fixed != "" {
				fmt.Fprintf(stderr, "strata: unknown flag %s before the command: only --project-dir, --target, --log-format and --no-color go before it; give the command's own flags after it: %s\n", arg, fixed)
				return ExitBadInput
			}
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
			code := c.run(ctx, a, rest)
			if code != ExitOK && ctx.Err() != nil {
				// Ctrl-C or SIGTERM stopped it, whatever the stage.
				return ExitCancelled
			}
			return code
		}
	}
	if hint, ok := dbtCommands[name]; ok {
		fmt.Fprintf(stderr, "strata: unknown command %q: %s\n", name, hint)
		return ExitBadInput
	}
	fmt.Fprintf(stderr, "strata: unknown command %q%s\n", name, diag.DidYouMean(name, names))
	a.usage(stderr)
	return ExitBadInput
}

// commandFlagsAfter returns args as strata takes them when args[i] is a
// command's flag typed before the command (strata --threads 4 build): the
// global flags before it stay where they are, the rest move after the
// command. It returns "" when no later argument names a command.
func commandFlagsAfter(args []string, i int) string {
	for j := i + 1; j < len(args); j++ {
		if !slices.ContainsFunc(commands(), func(c command) bool { return c.name == args[j] }) {
			continue
		}
		fixed := append(slices.Clone(args[:i]), args[j])
		fixed = append(fixed, args[i:j]...)
		fixed = append(fixed, args[j+1:]...)
		words := []string{"strata"}
		for _, f := range fixed {
			words = append(words, shellWord(f))
		}
		return strings.Join(words, " ")
	}
	return ""
}

// shellWord is s as a shell reads it back: as it is when it holds nothing
// the shell would split or expand, else in single quotes.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,:/@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dbtCommands says what to run instead of a dbt command that strata does
// not have (docs/coming-from-dbt.md).
var dbtCommands = map[string]string{
	"source":        "a source table's freshness is a test: run strata test -s source:NAME, or build (docs/seeds-and-sources.md#freshness)",
	"snapshot":      "scd2 models are built by run and build like other models (docs/scd2.md)",
	"parse":         "strata validate checks the project without a database",
	"run-operation": "strata runs no macros on their own: run SQL with strata db psql, or in a hook",
	"deps":          project.NoPackages,
	"list":          "strata's is strata ls (docs/commands.md#ls)",
}

// dbtFlags says what to give instead of a dbt flag, when the command it was
// given to does not take it: strata's name for it, or what to do where
// strata has no counterpart (docs/coming-from-dbt.md#flags). Keyed by the
// flag as typed, without its value.
var dbtFlags = map[string]string{
	"--models":                "strata's is --select (-s): several nodes in one quoted argument or several -s, -s 'a b' or -s a -s b",
	"-m":                      "strata's is -s (--select): several nodes in one quoted argument or several -s, -s 'a b' or -s a -s b",
	"--profiles-dir":          "strata has no profiles.yml: the targets are under targets: in project.yaml, with their secrets from the environment (env_var, PG* variables), and --target NAME picks one (docs/project.md#targets)",
	"--profile":               "strata has no profiles: the targets are under targets: in project.yaml, and --target NAME picks one (docs/project.md#targets)",
	"-x":                      "strata's is --fail-fast, which has no short form",
	"--fail-fast":             "only seed, run, test, build and retry take --fail-fast, after the command: strata build --fail-fast",
	"--full-refresh":          "only seed, run, build, retry and check take --full-refresh, after the command: strata build --full-refresh (test builds nothing: strata build --full-refresh -s ... rebuilds and then tests)",
	"--store-failures":        "strata has no such flag: a test keeps its failing rows (in the schema audit) with store_failures: true in its YAML config, or {{ config \"store_failures\" true }} in a singular test (docs/tests.md)",
	"--defer":                 "strata defers with environments: --env NAME builds the selection in schemas <schema>__NAME and reads what it does not build from production as recorded in the target, no --state needed, which only feeds the state: and result: selectors (docs/environments.md)",
	"--favor-state":           "strata defers with environments: --env NAME reads what it does not build from production, and --no-defer builds the ancestors in the environment too (docs/environments.md)",
	"--target-path":           "strata writes its artifacts to target/ in the project's folder (--project-dir), always; copy them from there after the run (docs/artifacts.md)",
	"--log-level":             "strata has no log levels: it prints each node's start and end and every problem, --log-format json prints them as JSON lines, and target/strata.log keeps them (docs/commands.md#output)",
	"--warn-error":            "strata has no such flag: a test with severity: warn never fails a run; give the tests that must fail it severity: error (the default) or an error_if (docs/tests.md)",
	"--warn-error-options":    "strata has no such flag: a test with severity: warn never fails a run; give the tests that must fail it severity: error (the default) or an error_if (docs/tests.md)",
	"--resource-type":         "only ls takes --resource-type, after the command: strata ls --resource-type model; other commands select kinds with -s resource_type:KIND (model, seed, test, source, exposure), several in one quoted argument: -s 'resource_type:seed resource_type:model' (docs/selectors.md)",
	"--exclude-resource-type": "strata's is --exclude resource_type:KIND (model, seed, test, source, exposure) (docs/selectors.md)",
	"--indirect-selection":    "strata selects as dbt's cautious mode: a selected node's tests come along, and a test that reads several nodes (relationships) only when all of them are selected; for eager, select those nodes too, and for empty, add --exclude resource_type:test (docs/selectors.md)",
	"--selector":              "strata has no selectors.yml: write the selection on the command line with -s and --exclude, in a script or Makefile if it is long (docs/selectors.md)",
}

// dbtFlagOffers are the flags that a dbt flag's hint in dbtFlags tells to
// give to the command it was given to. A command that lacks one of them
// is told dbtFlagsWithout's hint instead ({command}: the command), which
// offers only what the command takes.
var dbtFlagOffers = map[string][]string{
	"--models":                {"--select"},
	"-m":                      {"--select"},
	"-x":                      {"--fail-fast"},
	"--defer":                 {"--env", "--no-defer"},
	"--favor-state":           {"--env", "--no-defer"},
	"--resource-type":         {"--select"},
	"--exclude-resource-type": {"--exclude"},
	"--indirect-selection":    {"--select", "--exclude"},
	"--selector":              {"--select", "--exclude"},
}

// noSelection is the hint of a selection flag given to a command that
// selects nothing.
const noSelection = "strata {command} takes no selection: it has no -s and no --exclude (strata {command} --help lists its flags)"

// noDefer is the hint of a deferral flag given to a command that defers
// nothing.
const noDefer = "strata {command} defers nothing: strata defers with environments (docs/environments.md), and only seed, run, test, build, retry and compile take --no-defer"

var dbtFlagsWithout = map[string]string{
	"--models":                noSelection,
	"-m":                      noSelection,
	"-x":                      "strata's -x is --fail-fast, which has no short form, and only seed, run, test, build and retry take --fail-fast",
	"--defer":                 noDefer,
	"--favor-state":           noDefer,
	"--resource-type":         "only ls takes --resource-type, after the command: strata ls --resource-type model; strata {command} takes no selection",
	"--exclude-resource-type": noSelection,
	"--indirect-selection":    noSelection,
	"--selector":              noSelection,
}

// dbtFlagHint returns the hint for err, an error of parsing the flags of
// command fs, when err is an unknown dbt flag: dbtFlags', or, when it
// offers a flag fs lacks, dbtFlagsWithout's.
func dbtFlagHint(err error, fs *pflag.FlagSet) (flag, hint string, ok bool) {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) {
		return "", "", false
	}
	flag = "--" + ne.GetSpecifiedName()
	if ne.GetSpecifiedShortnames() != "" {
		flag = "-" + ne.GetSpecifiedName()
	}
	hint, ok = dbtFlags[flag]
	for _, f := range dbtFlagOffers[flag] {
		if fs.Lookup(strings.TrimPrefix(f, "--")) == nil {
			return flag, strings.ReplaceAll(dbtFlagsWithout[flag], "{command}", fs.Name()), ok
		}
	}
	return flag, hint, ok
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
	// retryRan, set by retry, are all the nodes of the run retried: the
	// tests among them that read a node of retryIDs run again too.
	retryRan []string
	// retryHooks, set by retry, runs the hooks even when no node is
	// selected, because the last run's on-run-end hook failed or may
	// not have run (retryEnded).
	retryHooks bool
	// retryRecord, set by retry, is the record of the last run it read
	// (run_results.json and run_progress.jsonl): once it holds the run
	// lock, a retry whose record another run changed meanwhile reads the
	// new one.
	retryRecord *pipeline.RunRecordSnapshot
	// retryOf, set by retry, is the run it repeats, as retryRecord says.
	retryOf *pipeline.Retry
	// retryEnded, set by retry, is the last run when it was stopped
	// after its last node (its record in progress, every node ended).
	retryEnded *pipeline.Retry
	// retryNote, set by retry, is said once the record is confirmed.
	retryNote string
	// direct, set by ls, selects without the tests of the selected nodes.
	direct bool
}

// newBareFlags is the flag set of a command that takes only the global
// flags. Its help is printed by parse, from helps[name].
func (a *app) newBareFlags(name string) *flags {
	f := &flags{fs: pflag.NewFlagSet(name, pflag.ContinueOnError)}
	f.fs.SetOutput(a.stderr)
	f.fs.Usage = func() {} // parse prints the help, or one line for a bad flag
	f.fs.SortFlags = false // help lists the flags in the order they are added
	f.fs.StringVar(&a.projectDir, "project-dir", a.projectDir, "the project's folder (default: the current one)")
	f.fs.StringVar(&a.target, "target", a.target, "the target to use (default: STRATA_TARGET, then project.yaml's target:)")
	f.fs.StringVar(&a.logFormat, "log-format", a.logFormat, "how to print progress: text (default) or json, one object per line")
	f.fs.BoolVar(&a.noColor, "no-color", a.noColor, "no colours in the output")
	return f
}

// newFlags is the flag set of a command that reads the project: the
// global flags, --vars, and with withSelect the selection flags.
func (a *app) newFlags(name string, withSelect bool) *flags {
	f := a.newBareFlags(name)
	if withSelect {
		f.fs.StringArrayVarP(&f.selects, "select", "s", nil, "what to work on (docs/selectors.md); repeatable")
		f.fs.StringArrayVar(&f.excludes, "exclude", nil, "what to leave out; repeatable")
		f.fs.StringVar(&f.state, "state", "", "a folder with an earlier manifest.json and run_results.json, for state: and result: selectors")
	}
	f.fs.Var(&onceString{p: &f.vars}, "vars", "vars over project.yaml's, as a YAML mapping: 'start_date: 2024-01-01'")
	return f
}

// onceString is a string flag that may be given once. A second --vars
// replaced the first, whose vars were then silently not set (--vars 'a: 1'
// --vars 'b: 2' rendered a with project.yaml's value).
type onceString struct {
	p   *string
	set bool
}

func (o *onceString) String() string { return *o.p }
func (o *onceString) Type() string   { return "string" }

func (o *onceString) Set(v string) error {
	if o.set {
		return fmt.Errorf("it is given twice (first %q): give every var in one mapping, --vars '{a: 1, b: 2}'", *o.p)
	}
	*o.p, o.set = v, true
	return nil
}

// addWalkFlags adds the flags of every command that runs nodes on the
// database: seed, run, test, build and retry.
func (f *flags) addWalkFlags() {
	f.fs.IntVar(&f.threads, "threads", 0, "how many nodes to run at once (default: the target's threads)")
	f.fs.BoolVar(&f.failFast, "fail-fast", false, "stop at the first failure; what runs is cancelled, the rest skipped")
	f.fs.BoolVar(&f.noWait, "no-wait", false, "fail instead of waiting when another run holds the target")
	f.addEnvFlags()
}

// addEnvFlags adds --env and --no-defer (docs/environments.md).
func (f *flags) addEnvFlags() {
	f.fs.StringVar(&f.env, "env", "", "build in environment NAME: schemas <schema>__NAME on the same target, reading what is not selected from production")
	f.fs.BoolVar(&f.noDefer, "no-defer", false, "with --env: build the selection's parents in the environment too instead of reading production's")
}

// addEmptyFlag adds --empty, which every command that runs nodes takes.
func (f *flags) addEmptyFlag() {
	f.fs.BoolVar(&f.empty, "empty", false, "build nothing: check the selected SQL against the database, as strata check does")
}

// addAuditFlags adds --audit (run) and --no-audit (build), which say
// whether models are tested before they are published.
func (f *flags) addAuditFlags(audit, noAudit bool) {
	if audit {
		f.fs.BoolVar(&f.audit, "audit", false, "test each model's new version before it replaces the old one, as build does")
	}
	if noAudit {
		f.fs.BoolVar(&f.noAudit, "no-audit", false, "publish each model, then test it, instead of testing its new version first")
	}
}

// audits says whether a run of cmd tests new versions before it publishes
// them (write-audit-publish): build does unless --no-audit, run with --audit.
func (f *flags) audits(cmd string) bool {
	if f.noAudit || f.empty {
		return false
	}
	return cmd == "build" || cmd == "run" && f.audit
}

// addSeedFlags adds the flags of seed: the walk's, --full-refresh and --empty.
func (f *flags) addSeedFlags() {
	f.addWalkFlags()
	f.fs.BoolVar(&f.fullRefresh, "full-refresh", false, "reload every selected seed, changed or not")
	f.addEmptyFlag()
}

// addRunFlags adds the flags of the commands that build models: run, build
// and retry.
func (f *flags) addRunFlags() {
	f.addWalkFlags()
	f.fs.BoolVar(&f.fullRefresh, "full-refresh", false, "rebuild incremental models and materialized views from scratch, reload unchanged seeds")
	f.fs.BoolVar(&f.fullSCD2, "full-refresh-scd2", false, "allow --full-refresh to rebuild scd2 models, and an scd2 model to become another materialization, destroying their history")
	f.addEmptyFlag()
}

// parse parses args; it returns an exit code to return when parsing ended the command.
func (a *app) parse(f *flags, args []string) (int, bool) {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			a.commandHelp(a.stdout, f.fs.Name(), f.fs)
			return ExitOK, true
		}
		if flag, hint, ok := dbtFlagHint(err, f.fs); ok {
			fmt.Fprintf(a.stderr, "strata %s: unknown flag %s: %s\n", f.fs.Name(), flag, hint)
			return ExitBadInput, true
		}
		fmt.Fprintf(a.stderr, "strata %s: %v (strata %s --help lists its flags)\n", f.fs.Name(), err, f.fs.Name())
		return ExitBadInput, true
	}
	if a.logFormat != "text" && a.logFormat != "json" {
		fmt.Fprintf(a.stderr, "strata: --log-format must be text or json, got %q\n", a.logFormat)
		return ExitBadInput, true
	}
	// An empty --env is production, and "$PR" of an unset variable is
	// empty: a CI job would build production where it meant a pull
	// request's environment.
	if f.fs.Lookup("env") != nil && f.fs.Changed("env") && strings.TrimSpace(f.env) == "" {
		fmt.Fprintf(a.stderr, "strata %s: --env was given an empty name (an unset variable?); name the environment, or leave --env out to use production\n", f.fs.Name())
		return ExitBadInput, true
	}
	// 0 is the flag's "not given" default, so only a given value is checked.
	if f.fs.Changed("threads") && f.threads < 1 {
		fmt.Fprintf(a.stderr, "strata %s: --threads must be at least 1, got %d\n", f.fs.Name(), f.threads)
		return ExitBadInput, true
	}
	return 0, false
}

// noArgs refuses the arguments left after the flags of a command that takes
// none, as parse's caller would otherwise ignore them: ls -s a b listed a
// alone, and compile a compiled everything.
func (a *app) noArgs(f *flags) (int, bool) {
	if f.fs.NArg() == 0 {
		return 0, false
	}
	hint := ""
	if f.fs.Lookup("select") != nil {
		hint = " (selectors go after --select; quote several: -s 'a b')"
	}
	fmt.Fprintf(a.stderr, "strata %s: unexpected argument %q%s\n", f.fs.Name(), f.fs.Arg(0), hint)
	return ExitBadInput, true
}

// load reads the project as the global flags and --vars say, rendering
// every node. ok=false means the project has problems (exit 2); the
// problems are returned, not printed. Loading honours ctx: when it ends
// (Ctrl-C, SIGTERM) load returns at once with ok=false and no problems,
// having said so, and Main exits 130; the loading goroutine is abandoned,
// since nothing it does is written anywhere.
func (a *app) load(ctx context.Context, f *flags) (l *pipeline.Project, diags diag.List, ok bool) {
	type loaded struct {
		l     *pipeline.Project
		diags diag.List
	}
	done := make(chan loaded, 1)
	go func() {
		l, diags := pipeline.Load(pipeline.Options{Dir: a.projectDir, Target: a.target, Vars: f.vars, Env: f.env, StartedAt: a.startedAt})
		done <- loaded{l, diags}
	}()
	select {
	case r := <-done:
		return r.l, r.diags, !r.diags.HasErrors()
	case <-ctx.Done():
		fmt.Fprintln(a.stderr, "strata: cancelled while loading the project; nothing was run")
		return nil, nil, false
	}
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

// isAre is the verb for n things.
func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
