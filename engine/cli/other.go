package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/local"
	"strata/engine/manifest"
	"strata/engine/pipeline"
	"strata/engine/project"
)

// loadSelection loads the project and applies --select, --exclude and --state
// (or retry's nodes). When ok is false the command ends with code; the
// problems were printed.
func (a *app) loadSelection(ctx context.Context, f *flags, cmd string) (l *pipeline.Project, selected map[string]bool, code int, ok bool) {
	l, diags, ok := a.load(ctx, f)
	a.printDiags(diags)
	if !ok {
		return nil, nil, ExitBadInput, false
	}
	sel := pipeline.Selection{Select: f.selects, Exclude: f.excludes, State: f.state, IDs: f.retryIDs, Ran: f.retryRan, Direct: f.direct}
	db, code, ok := a.readState(ctx, l, f, sel, cmd)
	if !ok {
		return nil, nil, code, false
	}
	if db != nil {
		defer db.Close()
	}
	selected, err := l.Select(sel)
	var stateErr *pipeline.StateError
	if errors.As(err, &stateErr) {
		fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
		return nil, nil, ExitBadInput, false
	}
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return nil, nil, ExitBadInput, false
	}
	a.warnStaleColumns(l, f)
	if selected, code, ok = a.deferTo(ctx, l, db, f, selected, cmd); !ok {
		return nil, nil, code, false
	}
	return l, selected, 0, true
}

// warnStaleColumns warns when a column: selector reads what strata check
// found of models that changed since, or that it never checked.
func (a *app) warnStaleColumns(l *pipeline.Project, f *flags) {
	uses := false
	for _, s := range append(append([]string(nil), f.selects...), f.excludes...) {
		uses = uses || strings.Contains(s, "column:")
	}
	if !uses {
		return
	}
	stale := l.StaleChecks()
	if len(stale) == 0 {
		return
	}
	names := strings.Join(stale, ", ")
	if len(stale) > 5 {
		names = strings.Join(stale[:5], ", ") + ", ..."
	}
	fmt.Fprintf(a.stderr, "warning: column: selects by what strata check found, and %d model%s changed since or %s not checked (%s): run strata check for a current answer\n",
		len(stale), plural(len(stale)), map[bool]string{true: "was", false: "were"}[len(stale) == 1], names)
}

func cmdCompile(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("compile", true)
	f.addEnvFlags()
	if code, done := a.parse(f, args); done {
		return code
	}
	if code, done := a.noArgs(f); done {
		return code
	}
	l, selected, code, ok := a.loadSelection(ctx, f, "compile")
	if !ok {
		return code
	}
	n, err := l.WriteCompiled(selected)
	if err != nil {
		fmt.Fprintf(a.stderr, "strata compile: %v\n", err)
		return ExitFailed
	}
	a.say("Compiled %d node%s to target/compiled/ and wrote target/manifest.json", n, plural(n))
	return ExitOK
}

func cmdValidate(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("validate", true)
	if code, done := a.parse(f, args); done {
		return code
	}
	if code, done := a.noArgs(f); done {
		return code
	}
	l, diags, ok := a.load(ctx, f)
	if ok && (len(f.selects) > 0 || len(f.excludes) > 0) {
		if _, err := l.Select(pipeline.Selection{Select: f.selects, Exclude: f.excludes, State: f.state}); err != nil {
			fmt.Fprintln(a.stderr, err)
			return ExitBadInput
		}
	}
	for _, d := range diags {
		fmt.Fprintln(a.stderr, d.Error())
	}
	if !ok {
		n := 0
		for _, d := range diags {
			if d.Severity == 0 {
				n++
			}
		}
		fmt.Fprintf(a.stderr, "%d problem%s found\n", n, plural(n))
		return ExitBadInput
	}
	counts := map[manifest.Kind]int{}
	for _, n := range l.Manifest.Nodes {
		counts[n.Kind]++
	}
	a.say("OK: %d models, %d seeds, %d tests, %d sources, %d exposures, %d macros",
		counts[manifest.Model], counts[manifest.Seed], counts[manifest.Test], counts[manifest.Source], counts[manifest.Exposure], len(l.Manifest.Macros.Names()))
	return ExitOK
}

func cmdLs(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("ls", true)
	var resourceTypes []string
	f.fs.StringVarP(&f.output, "output", "o", "name", "what to print of each node: its name, its file (each file once) or json")
	f.fs.StringArrayVar(&resourceTypes, "resource-type", nil, "only nodes of this kind: model, seed, test, source or exposure (repeatable), or all: every kind, tests with the nodes they test")
	f.fs.StringVar(&f.env, "env", "", "with --output json: the relations as environment NAME names them (schemas <schema>__NAME); connects to nothing")
	if code, done := a.parse(f, args); done {
		return code
	}
	if code, done := a.noArgs(f); done {
		return code
	}
	if f.output != "name" && f.output != "path" && f.output != "json" {
		fmt.Fprintf(a.stderr, "strata ls: --output must be name, path or json, got %q\n", f.output)
		return ExitBadInput
	}
	for _, k := range resourceTypes {
		if !slices.Contains(lsResourceTypes, k) && strings.HasPrefix(strings.ReplaceAll(k, "-", "_"), "unit_test") {
			// dbt's resource type of unit tests: strata's are tests.
			fmt.Fprintf(a.stderr, "strata ls: --resource-type %q is not known: unit tests are tests here, and strata ls -s test_type:unit lists them (docs/unit-tests.md)\n", k)
			return ExitBadInput
		}
		if !slices.Contains(lsResourceTypes, k) {
			fmt.Fprintf(a.stderr, "strata ls: --resource-type %q is not known (expected one of %s)%s\n", k, strings.Join(lsResourceTypes, ", "), diag.DidYouMean(k, lsResourceTypes))
			return ExitBadInput
		}
	}
	// Without --resource-type, ls lists what the selectors pick by
	// themselves: the tests of a selected model would bury it (a config
	// selector picked 30 tests with their models, and --output path printed
	// their YAML file 30 times). --resource-type test asks for them.
	f.direct = len(resourceTypes) == 0
	l, selected, code, ok := a.loadSelection(ctx, f, "ls")
	if !ok {
		return code
	}
	if f.env != "" && f.output != "json" {
		// Said, not ignored silently: a name or a path is the same in
		// every environment.
		fmt.Fprintln(a.stderr, "strata ls: --env changes only --output json (schema, relation_name, compiled_code); names and paths are the same in every environment")
	}
	kinds := map[string]bool{}
	for _, k := range resourceTypes {
		if k != "all" {
			kinds[k] = true
		}
	}
	if slices.Contains(resourceTypes, "all") {
		kinds = map[string]bool{}
	}
	ids := make([]string, 0, len(selected))
	for id := range selected {
		if len(kinds) == 0 || kinds[string(l.Manifest.Nodes[id].Kind)] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		// Said on stderr: stdout is the list, and an empty list is empty.
		fmt.Fprintln(a.stderr, "Nothing to list: the selection matches no nodes.")
		return ExitOK
	}
	// ls prints data, not log messages: its lines are what a script reads,
	// whatever --log-format says; a script that wants JSON asks --output json.
	printed := map[string]bool{} // paths: a YAML file declares many nodes
	for _, id := range ids {
		n := l.Manifest.Nodes[id]
		switch f.output {
		case "name":
			// An exposure may share a model's name, and a source table's
			// name (crm.accounts) is no name selector: each prints as the
			// selector that picks it alone, so a line of ls is a -s.
			switch n.Kind {
			case manifest.Exposure:
				fmt.Fprintln(a.stdout, "exposure:"+n.Name)
				continue
			case manifest.Source:
				fmt.Fprintln(a.stdout, "source:"+n.Name)
				continue
			}
			fmt.Fprintln(a.stdout, n.Name)
		case "path":
			if !printed[n.Path] {
				printed[n.Path] = true
				fmt.Fprintln(a.stdout, n.Path)
			}
		case "json":
			b, _ := json.Marshal(l.NodeArtifact(n))
			fmt.Fprintln(a.stdout, string(b))
		}
	}
	return ExitOK
}

// lsResourceTypes are the kinds ls --resource-type accepts, and all.
var lsResourceTypes = []string{string(manifest.Model), string(manifest.Seed), string(manifest.Test), string(manifest.Source), string(manifest.Exposure), "all"}

func cmdDebug(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("debug", false)
	if code, done := a.parse(f, args); done {
		return code
	}
	if code, done := a.noArgs(f); done {
		return code
	}
	l, diags, ok := a.load(ctx, f)
	a.printDiags(diags)
	if !ok {
		return ExitBadInput
	}
	a.say("project: %s (%s), %d nodes", l.Project.Name, l.Dir, len(l.Manifest.Nodes))
	a.say("target:  %s (type %s, schema %s, %d threads)", l.Target.Name, l.Target.Type, l.Target.Schema, l.Target.Threads)
	db, err := l.Connect(ctx, 1)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(a.stderr, "strata debug: cancelled while connecting to target %s\n", l.Target.Name)
			return ExitCancelled
		}
		a.say("connection: FAILED: %v", err)
		return ExitFailed
	}
	defer db.Close()
	version, err := db.ServerVersion(ctx)
	if err != nil {
		a.say("connection: FAILED: %v", err)
		return ExitFailed
	}
	a.say("connection: OK (%s)", version)
	scratch, err := postgres.ScratchRelations(ctx, db.Shared())
	if err != nil {
		a.say("scratch relations: cannot list them: %v", err)
		return ExitFailed
	}
	if len(scratch) == 0 {
		a.say("scratch relations: none")
		return ExitOK
	}
	// A large seed is loaded over several connections into a scratch table
	// that is committed before the swap: while a run goes on, what is
	// listed may be its own.
	if others, err := postgres.OtherStrataSessions(ctx, db.Shared()); err == nil && others > 0 {
		a.say("scratch relations: %d, while %d other strata session%s %s connected to this database: a run in progress may be using them (run strata debug again once it has ended):", len(scratch), others, plural(others), isAre(others))
	} else {
		a.say("scratch relations: %d stale (a build leaves none behind; the next build of their model drops them, or drop them by hand):", len(scratch))
	}
	for _, s := range scratch {
		a.say("  %s %s", strings.ReplaceAll(s.Kind, "_", " "), s.Rel)
	}
	return ExitOK
}

func cmdClean(ctx context.Context, a *app, args []string) int {
	f := a.newBareFlags("clean")
	var all bool
	f.fs.BoolVar(&all, "all", false, "also stop and delete the project's local PostgreSQL, with its data (as strata db destroy)")
	if code, done := a.parse(f, args); done {
		return code
	}
	if code, done := a.noArgs(f); done {
		return code
	}
	dir, _ := filepath.Abs(a.projectDir)
	// Only a strata project's target/ is ours to remove: a --project-dir
	// pointing elsewhere must not cost that folder its target/. A project
	// with problems may still be cleaned, so only an unreadable project.yaml
	// stops it, and the rest is not read.
	if d, missing := project.Missing(dir); missing {
		a.printDiags(diag.List{d})
		return ExitBadInput
	}
	if diags := project.IsProject(os.DirFS(dir)); diags.HasErrors() {
		a.printDiags(diags)
		return ExitBadInput
	}
	// --all's target is chosen first: a wrong --target removes nothing.
	var c pipeline.LocalCluster
	if all {
		var err error
		if c, err = pipeline.Local(dir, a.target, os.LookupEnv); err != nil {
			fmt.Fprintf(a.stderr, "strata clean: %v; nothing was removed\n", err)
			return localErrCode(err)
		}
	}
	target := filepath.Join(dir, "target")
	if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
		a.say("Nothing to remove: there is no target/")
	} else if err := os.RemoveAll(target); err != nil {
		fmt.Fprintf(a.stderr, "strata clean: %v\n", err)
		return ExitFailed
	} else {
		a.say("Removed target/")
	}
	if !all {
		return ExitOK
	}
	if c.Target != nil && c.Target.Type != "local" {
		a.say("Target %s is not local: no local PostgreSQL to remove", c.Target.Name)
		return ExitOK
	}
	return a.dbDestroy(ctx, c, dir)
}

// dbDestroy stops the project's local cluster and deletes it (db
// destroy, clean --all), saying what it removed. It refuses for a target
// that is not local: strata manages no cluster for it.
func (a *app) dbDestroy(ctx context.Context, c pipeline.LocalCluster, dir string) int {
	if c.Target != nil && c.Target.Type != "local" {
		fmt.Fprintf(a.stderr, "strata db destroy: target %s is type %s, not local: strata manages no PostgreSQL for it; nothing was removed\n", c.Target.Name, c.Target.Type)
		return ExitBadInput
	}
	removed, err := c.Destroy(ctx, dir)
	for _, p := range removed {
		a.say("Removed %s", p)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "strata db destroy: %v\n", err)
		return ExitFailed
	}
	if len(removed) == 0 {
		a.say("Nothing to remove: this project has no local PostgreSQL")
		return ExitOK
	}
	what := "PostgreSQL"
	if c.Citus != nil {
		what = "Citus cluster"
	}
	a.say("The local %s of this project is stopped and removed, with its data; the next command that needs it creates a new one", what)
	return ExitOK
}

func cmdDB(ctx context.Context, a *app, args []string) int {
	f := a.newBareFlags("db")
	f.fs.SetInterspersed(false)
	if code, done := a.parse(f, args); done {
		return code
	}
	if f.fs.NArg() == 0 {
		fmt.Fprintln(a.stderr, "strata db: expected a subcommand, start, stop, status, url, psql or destroy (strata db --help)")
		return ExitBadInput
	}
	// The global flags may also follow the subcommand (db start --target
	// citus), as they follow any other command; psql's arguments start at
	// the first one that is not a flag of strata's.
	sub, rest := f.fs.Arg(0), f.fs.Args()[1:]
	var psqlArgs []string
	if sub == "psql" {
		n := leadingFlags(f.fs, rest)
		rest, psqlArgs = rest[:n], rest[n:]
	}
	f.fs.SetInterspersed(true)
	if code, done := a.parse(f, rest); done {
		return code
	}
	if f.fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "strata db %s: unexpected argument %q (strata db --help)\n", sub, f.fs.Arg(0))
		return ExitBadInput
	}
	subs := []string{"start", "stop", "status", "url", "psql", "destroy"}
	if !slices.Contains(subs, sub) {
		fmt.Fprintf(a.stderr, "strata db: unknown subcommand %q (expected start, stop, status, url, psql or destroy)%s\n", sub, diag.DidYouMean(sub, subs))
		return ExitBadInput
	}
	dir, _ := filepath.Abs(a.projectDir)
	c, err := pipeline.Local(dir, a.target, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(a.stderr, "strata db %s: %v\n", sub, err)
		return localErrCode(err)
	}
	// A target that is not local has no cluster of strata's: its
	// subcommands would act on the default local one instead (db psql
	// --target prod opened psql on the development server).
	if c.Target != nil && c.Target.Type != "local" {
		fmt.Fprintf(a.stderr, "strata db %s: target %s is type %s, not local: strata manages no PostgreSQL for it; nothing was done (strata debug --target %s checks its connection)\n", sub, c.Target.Name, c.Target.Type, c.Target.Name)
		return ExitBadInput
	}
	switch sub {
	case "start":
		if err := c.Start(ctx); err != nil {
			fmt.Fprintf(a.stderr, "strata db start: %v\n", err)
			return ExitFailed
		}
		st, _ := c.Status(ctx)
		if c.Citus == nil {
			a.say("PostgreSQL is running (pid %d), data in %s, socket in %s", st[0].PID, st[0].DataDir, st[0].SocketDir)
			break
		}
		var nodes []string
		for _, n := range st {
			nodes = append(nodes, fmt.Sprintf("%s (pid %d)", n.Name, n.PID))
		}
		a.say("Citus is running: %s; data in %s; connect to the coordinator: %s", strings.Join(nodes, ", "), c.Citus.Root(), c.URL())
	case "stop":
		if err := c.Stop(ctx); err != nil {
			fmt.Fprintf(a.stderr, "strata db stop: %v\n", err)
			return ExitFailed
		}
		if c.Citus != nil {
			a.say("Citus is stopped (coordinator and %d worker%s)", len(c.Citus.Workers), plural(len(c.Citus.Workers)))
			break
		}
		a.say("PostgreSQL is stopped")
	case "status":
		st, err := c.Status(ctx)
		if err != nil {
			fmt.Fprintf(a.stderr, "strata db status: %v\n", err)
			return ExitFailed
		}
		if c.Citus != nil {
			return a.citusStatus(c, st)
		}
		switch s := st[0]; {
		case s.Running:
			a.say("running (pid %d)\ndata:   %s\nsocket: %s\nlog:    %s\nurl:    %s", s.PID, s.DataDir, s.SocketDir, s.LogFile, c.URL())
		case s.Initialized:
			a.say("stopped\ndata: %s", s.DataDir)
			return ExitStopped
		default:
			a.say("not created yet (strata creates it on first use, or run: strata db start)")
			return ExitStopped
		}
	case "destroy":
		return a.dbDestroy(ctx, c, dir)
	case "url":
		// The URL is data for a script (psql "$(strata db url)"), like ls's
		// output: it stays bare under --log-format json.
		fmt.Fprintln(a.stdout, c.URL())
	case "psql":
		if psqlHelp(psqlArgs) {
			// psql's help or version needs no server: none is started.
			fmt.Fprintf(a.stdout, "strata db psql [--target NAME] [psql arguments]: psql connected to the local PostgreSQL of this project (started if it is not running); the arguments go to psql, whose help follows.\n\n")
			cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir(), "psql"), psqlArgs...)
			cmd.Stdout, cmd.Stderr = a.stdout, a.stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(a.stderr, "strata db psql: %v\n", err)
				return ExitFailed
			}
			return ExitOK
		}
		if err := c.Start(ctx); err != nil {
			fmt.Fprintf(a.stderr, "strata db psql: %v\n", err)
			return ExitFailed
		}
		// The connection goes in the environment, not as a connection
		// string argument: psql's -d (or a bare database name) replaced
		// that whole, socket and port included, where it only sets the
		// database over these.
		cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir(), "psql"), psqlArgs...)
		cmd.Env = psqlEnv(os.Environ(), c.PsqlEnv())
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, a.stdout, a.stderr
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return ee.ExitCode()
			}
			fmt.Fprintf(a.stderr, "strata db psql: %v\n", err)
			return ExitFailed
		}
	}
	return ExitOK
}

// psqlEnv is environ with conn's variables in place of the same ones, and
// without PGSERVICE: a service's settings come before the environment's
// in libpq, so the user's would take psql to another server.
func psqlEnv(environ, conn []string) []string {
	drop := map[string]bool{"PGSERVICE": true}
	for _, kv := range conn {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	var env []string
	for _, kv := range environ {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			env = append(env, kv)
		}
	}
	return append(env, conn...)
}

// psqlHelp says whether psql's arguments ask only for its help or version.
func psqlHelp(args []string) bool {
	for _, a := range args {
		switch {
		case a == "--help", a == "-?", a == "--version", a == "-V":
		case strings.HasPrefix(a, "--help="): // options, commands, variables
		default:
			return false
		}
	}
	return len(args) > 0
}

// localErrCode is the exit code of pipeline.Local's error: 2 for a target
// that cannot be chosen (the command line or project.yaml is wrong), 1 for
// the machine (no server account, no PostgreSQL programs).
func localErrCode(err error) int {
	var bad *pipeline.BadTarget
	if errors.As(err, &bad) {
		return ExitBadInput
	}
	return ExitFailed
}

// leadingFlags counts the arguments at the start of args that are flags of
// fs, with their values (--target citus, --target=citus, --no-color): those
// of db psql that are strata's, not psql's. A "--" ends them and is counted.
func leadingFlags(fs *pflag.FlagSet, args []string) int {
	n := 0
	for n < len(args) {
		arg := args[n]
		if arg == "--" {
			return n + 1
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		fl := fs.Lookup(name)
		if !strings.HasPrefix(arg, "--") || fl == nil {
			return n
		}
		n++
		if !hasValue && fl.NoOptDefVal == "" && n < len(args) {
			n++ // the flag's value
		}
	}
	return n
}

// citusStatus prints the status of a local Citus cluster, node by node, and
// returns db status's exit code: 0 when every node runs, else 3.
func (a *app) citusStatus(c pipeline.LocalCluster, st []local.NodeStatus) int {
	running, created := 0, 0
	for _, n := range st {
		if n.Running {
			running++
		}
		if n.Initialized {
			created++
		}
	}
	workers := len(st) - 1
	switch {
	case created == 0:
		a.say("Citus cluster (coordinator and %d worker%s): not created yet (strata creates it on first use, or run: strata db start)", workers, plural(workers))
		return ExitStopped
	case running == len(st):
		a.say("Citus cluster (coordinator and %d worker%s): running\nurl: %s", workers, plural(workers), c.URL())
	case running == 0:
		a.say("Citus cluster (coordinator and %d worker%s): stopped", workers, plural(workers))
	default:
		a.say("Citus cluster (coordinator and %d worker%s): %d of %d nodes running (run strata db start)", workers, plural(workers), running, len(st))
	}
	for _, n := range st {
		state := "stopped"
		switch {
		case n.Running:
			state = fmt.Sprintf("running (pid %d)", n.PID)
		case !n.Initialized:
			state = "not created yet"
		}
		a.say("%s: %s\n  data:   %s\n  socket: %s\n  log:    %s", n.Name, state, n.DataDir, n.SocketDir, n.LogFile)
	}
	if running < len(st) {
		return ExitStopped
	}
	return ExitOK
}
