package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"strata/engine/artifacts"
	"strata/engine/compile"
	"strata/engine/diag"
	"strata/engine/internal/par"
	"strata/engine/local"
	"strata/engine/manifest"
	"strata/engine/project"
)

// loadSelection loads the project and applies --select, --exclude and --state.
// When ok is false the command ends with code; the problems were printed.
func (a *app) loadSelection(f *flags, cmd string) (l *loaded, selected map[string]bool, code int, ok bool) {
	l, diags, ok := a.load(f)
	a.printDiags(diags)
	if !ok {
		return nil, nil, ExitBadInput, false
	}
	if f.retryIDs != nil {
		return l, knownIDs(l, f.retryIDs), 0, true
	}
	st, err := a.loadState(l, f.state)
	if err != nil {
		fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
		return nil, nil, ExitBadInput, false
	}
	selected, err = l.gr.Select(f.selects, f.excludes, st)
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return nil, nil, ExitBadInput, false
	}
	return l, selected, 0, true
}

// knownIDs is the set of ids that are still nodes of the project; a node
// removed since the last run has nothing left to retry.
func knownIDs(l *loaded, ids []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		if _, ok := l.man.Nodes[id]; ok {
			out[id] = true
		}
	}
	return out
}

func cmdCompile(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("compile", true)
	if code, done := a.parse(f, args); done {
		return code
	}
	l, selected, code, ok := a.loadSelection(f, "compile")
	if !ok {
		return code
	}
	targetDir := filepath.Join(l.dir, "target")
	// The manifest is encoded while the compiled files are listed and created:
	// the files cost the kernel, the manifest the CPU. (Any --state manifest
	// was read by loadSelection.)
	manifestErr := make(chan error, 1)
	go func() { manifestErr <- a.writeManifest(l, targetDir) }()
	var ids []string
	for _, id := range l.man.Sorted() {
		if _, ok := l.compiled[id]; ok && selected[id] {
			ids = append(ids, id)
		}
	}
	compiledDir := filepath.Join(targetDir, "compiled")
	files := make([]artifacts.File, len(ids))
	pathErrs := make([]error, len(ids))
	par.For(len(ids), min(runtime.GOMAXPROCS(0), len(ids)/256), func(i int) {
		p, err := compile.Path(compiledDir, l.man.Nodes[ids[i]])
		files[i], pathErrs[i] = artifacts.File{Path: p, Text: l.compiled[ids[i]].SQL}, err
	})
	err := errors.Join(pathErrs...)
	if err == nil {
		_, err = artifacts.WriteFiles(files, compileWriters)
	}
	if merr := <-manifestErr; err == nil {
		err = merr
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "strata compile: %v\n", err)
		return ExitFailed
	}
	n := len(ids)
	a.say("Compiled %d node%s to target/compiled/ and wrote target/manifest.json", n, plural(n))
	return ExitOK
}

// compileWriters is how many goroutines write target/compiled/. Creating a
// file mostly waits on the file system's locks and journal: on 2 cores, 2
// writers cost the least system time (8, as before, cost twice as much).
const compileWriters = 2

func cmdValidate(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("validate", true)
	if code, done := a.parse(f, args); done {
		return code
	}
	l, diags, ok := a.load(f)
	if ok && (len(f.selects) > 0 || len(f.excludes) > 0) {
		st, err := a.loadState(l, f.state)
		if err == nil {
			_, err = l.gr.Select(f.selects, f.excludes, st)
		}
		if err != nil {
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
	for _, n := range l.man.Nodes {
		counts[n.Kind]++
	}
	a.say("OK: %d models, %d seeds, %d tests, %d sources, %d exposures, %d macros",
		counts[manifest.Model], counts[manifest.Seed], counts[manifest.Test], counts[manifest.Source], counts[manifest.Exposure], len(l.man.Macros.Names()))
	return ExitOK
}

func cmdLs(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("ls", true)
	var resourceTypes []string
	f.fs.StringVarP(&f.output, "output", "o", "name", "name, path or json")
	f.fs.StringArrayVar(&resourceTypes, "resource-type", nil, "only these kinds (model, seed, test, source, exposure)")
	if code, done := a.parse(f, args); done {
		return code
	}
	if f.output != "name" && f.output != "path" && f.output != "json" {
		fmt.Fprintf(a.stderr, "strata ls: --output must be name, path or json, got %q\n", f.output)
		return ExitBadInput
	}
	for _, k := range resourceTypes {
		if !slices.Contains(lsResourceTypes, k) {
			fmt.Fprintf(a.stderr, "strata ls: --resource-type %q is not known (expected one of %s)%s\n", k, strings.Join(lsResourceTypes, ", "), diag.DidYouMean(k, lsResourceTypes))
			return ExitBadInput
		}
	}
	l, selected, code, ok := a.loadSelection(f, "ls")
	if !ok {
		return code
	}
	kinds := map[string]bool{}
	for _, k := range resourceTypes {
		kinds[k] = true
	}
	ids := make([]string, 0, len(selected))
	for id := range selected {
		if len(kinds) == 0 || kinds[string(l.man.Nodes[id].Kind)] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	// ls prints data, not log messages: its lines are what a script reads,
	// whatever --log-format says; a script that wants JSON asks --output json.
	for _, id := range ids {
		n := l.man.Nodes[id]
		switch f.output {
		case "name":
			// An exposure may share a model's name: it prints as the
			// selector that picks it alone.
			if n.Kind == manifest.Exposure {
				fmt.Fprintln(a.stdout, "exposure:"+n.Name)
				continue
			}
			fmt.Fprintln(a.stdout, n.Name)
		case "path":
			fmt.Fprintln(a.stdout, n.Path)
		case "json":
			b, _ := json.Marshal(nodeArtifact(l, n))
			fmt.Fprintln(a.stdout, string(b))
		}
	}
	return ExitOK
}

// lsResourceTypes are the kinds ls --resource-type accepts.
var lsResourceTypes = []string{string(manifest.Model), string(manifest.Seed), string(manifest.Test), string(manifest.Source), string(manifest.Exposure)}

func cmdDebug(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("debug", false)
	if code, done := a.parse(f, args); done {
		return code
	}
	l, diags, ok := a.load(f)
	a.printDiags(diags)
	if !ok {
		return ExitBadInput
	}
	a.say("project: %s (%s), %d nodes", l.proj.Name, l.dir, len(l.man.Nodes))
	a.say("target:  %s (type %s, schema %s, %d threads)", l.target.Name, l.target.Type, l.target.Schema, l.target.Threads)
	db, err := a.connect(ctx, l, 1)
	if err != nil {
		a.say("connection: FAILED: %v", err)
		return ExitFailed
	}
	defer db.Close()
	var version string
	if err := db.Pool.QueryRow(ctx, "select version()").Scan(&version); err != nil {
		a.say("connection: FAILED: %v", err)
		return ExitFailed
	}
	a.say("connection: OK (%s)", version)
	return ExitOK
}

func cmdClean(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("clean", false)
	if code, done := a.parse(f, args); done {
		return code
	}
	dir, _ := filepath.Abs(a.projectDir)
	// Only a strata project's target/ is ours to remove: a --project-dir
	// pointing elsewhere must not cost that folder its target/. A project
	// with problems may still be cleaned, so only an unreadable project.yaml
	// stops it, and the rest is not read.
	if diags := project.IsProject(os.DirFS(dir)); diags.HasErrors() {
		a.printDiags(diags)
		return ExitBadInput
	}
	target := filepath.Join(dir, "target")
	if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
		a.say("Nothing to remove: there is no target/")
		return ExitOK
	}
	if err := os.RemoveAll(target); err != nil {
		fmt.Fprintf(a.stderr, "strata clean: %v\n", err)
		return ExitFailed
	}
	a.say("Removed target/")
	return ExitOK
}

func cmdDB(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("db", false)
	f.fs.SetInterspersed(false)
	if code, done := a.parse(f, args); done {
		return code
	}
	if f.fs.NArg() == 0 {
		fmt.Fprintln(a.stderr, "usage: strata db start|stop|status|url|psql [psql arguments]")
		return ExitBadInput
	}
	dir, _ := filepath.Abs(a.projectDir)
	c, err := local.New(dir)
	if err != nil {
		fmt.Fprintf(a.stderr, "strata db: %v\n", err)
		return ExitFailed
	}
	switch sub := f.fs.Arg(0); sub {
	case "start":
		if err := c.Start(ctx); err != nil {
			fmt.Fprintf(a.stderr, "strata db start: %v\n", err)
			return ExitFailed
		}
		st, _ := c.Status(ctx)
		a.say("PostgreSQL is running (pid %d), data in %s, socket in %s", st.PID, st.DataDir, st.SocketDir)
	case "stop":
		if err := c.Stop(ctx); err != nil {
			fmt.Fprintf(a.stderr, "strata db stop: %v\n", err)
			return ExitFailed
		}
		a.say("PostgreSQL is stopped")
	case "status":
		st, err := c.Status(ctx)
		if err != nil {
			fmt.Fprintf(a.stderr, "strata db status: %v\n", err)
			return ExitFailed
		}
		switch {
		case st.Running:
			a.say("running (pid %d)\ndata:   %s\nsocket: %s\nlog:    %s\nurl:    %s", st.PID, st.DataDir, st.SocketDir, st.LogFile, c.URL())
		case st.Initialized:
			a.say("stopped\ndata: %s", st.DataDir)
			return 3
		default:
			a.say("not created yet (strata creates it on first use, or run: strata db start)")
			return 3
		}
	case "url":
		// The URL is data for a script (psql "$(strata db url)"), like ls's
		// output: it stays bare under --log-format json.
		fmt.Fprintln(a.stdout, c.URL())
	case "psql":
		if err := c.Start(ctx); err != nil {
			fmt.Fprintf(a.stderr, "strata db psql: %v\n", err)
			return ExitFailed
		}
		cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir(), "psql"), append([]string{c.URL()}, f.fs.Args()[1:]...)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, a.stdout, a.stderr
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return ee.ExitCode()
			}
			fmt.Fprintf(a.stderr, "strata db psql: %v\n", err)
			return ExitFailed
		}
	default:
		fmt.Fprintf(a.stderr, "strata db: unknown subcommand %q (expected start, stop, status, url or psql)\n", sub)
		return ExitBadInput
	}
	return ExitOK
}
