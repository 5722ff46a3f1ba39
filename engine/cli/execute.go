package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"strata/engine/adapter/postgres"
	"strata/engine/artifacts"
	"strata/engine/local"
	"strata/engine/manifest"
	"strata/engine/run"
)

func cmdSeed(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("seed", true)
	f.addRunFlags()
	return a.execute(ctx, f, "seed", args, manifest.Seed)
}

func cmdRun(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("run", true)
	f.addRunFlags()
	return a.execute(ctx, f, "run", args, manifest.Model)
}

func cmdTest(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("test", true)
	f.addRunFlags()
	return a.execute(ctx, f, "test", args, manifest.Test)
}

func cmdBuild(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("build", true)
	f.addRunFlags()
	return a.execute(ctx, f, "build", args, manifest.Seed, manifest.Model, manifest.Test)
}

func cmdRetry(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("retry", false)
	f.addRunFlags()
	if code, done := a.parse(f, args); done {
		return code
	}
	dir, _ := filepath.Abs(a.projectDir)
	prev, err := artifacts.ReadRunResults(filepath.Join(dir, "target", "run_results.json"))
	if err != nil {
		fmt.Fprintf(a.stderr, "strata retry: no earlier run to retry (%v)\n", unwrapPath(err))
		return ExitBadInput
	}
	// Like dbt, the hooks run around every run, a retry too; a failed
	// on-run-end hook is retried by running the hooks even when no node
	// failed.
	f.retryIDs = []string{}
	for _, r := range prev.Results {
		if r.Status != "error" && r.Status != "fail" && r.Status != "skipped" {
			continue
		}
		if r.ID == onRunEndID {
			f.retryHooks = true
			continue
		}
		f.retryIDs = append(f.retryIDs, r.ID)
	}
	if len(f.retryIDs) == 0 && !f.retryHooks {
		a.say("Nothing to retry: the last run had no failures or skips.")
		return ExitOK
	}
	kinds := map[string][]manifest.Kind{"seed": {manifest.Seed}, "run": {manifest.Model}, "test": {manifest.Test}}[prev.Command]
	if kinds == nil {
		kinds = []manifest.Kind{manifest.Seed, manifest.Model, manifest.Test}
	}
	return a.executeParsed(ctx, f, prev.Command, kinds...)
}

// onRunEndID stands for the on-run-end hooks in run_results.json.
const onRunEndID = "on-run-end"

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (a *app) execute(ctx context.Context, f *flags, cmd string, args []string, kinds ...manifest.Kind) int {
	if code, done := a.parse(f, args); done {
		return code
	}
	if f.fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "strata %s: unexpected argument %q (selectors go after --select)\n", cmd, f.fs.Arg(0))
		return ExitBadInput
	}
	return a.executeParsed(ctx, f, cmd, kinds...)
}

func (a *app) executeParsed(ctx context.Context, f *flags, cmd string, kinds ...manifest.Kind) int {
	started := time.Now()
	l, selected, code, ok := a.loadSelection(f, cmd)
	if !ok {
		return code
	}
	want := map[manifest.Kind]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	subset := map[string]bool{}
	for id := range selected {
		n := l.man.Nodes[id]
		if want[n.Kind] && !(n.Kind == manifest.Model && n.Config.Materialized == "ephemeral") {
			subset[id] = true
		}
	}
	if f.fullRefresh && !f.fullSCD2 {
		for id := range subset {
			if n := l.man.Nodes[id]; n.Kind == manifest.Model && n.Config.Materialized == "scd2" {
				fmt.Fprintf(a.stderr, "strata %s: --full-refresh would destroy the history of scd2 model %s; add --full-refresh-scd2 to do that, or leave it out with --exclude %s\n", cmd, n.Name, n.Name)
				return ExitBadInput
			}
		}
	}
	order := l.gr.Order(subset)
	targetDir := filepath.Join(l.dir, "target")
	if err := os.MkdirAll(targetDir, 0o755); err != nil {
		fmt.Fprintf(a.stderr, "strata: cannot create target/: %v\n", err)
		return ExitFailed
	}
	logFile, _ := os.OpenFile(filepath.Join(targetDir, "strata.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if logFile != nil {
		defer logFile.Close()
		fmt.Fprintf(logFile, "\n=== strata %s %s\n", cmd, time.Now().UTC().Format(time.RFC3339))
	}
	if err := a.writeManifest(l, targetDir); err != nil {
		fmt.Fprintf(a.stderr, "strata: writing target/manifest.json: %v\n", err)
	}
	p := a.newPrinter(l.man, logWriter(logFile))
	if len(order) == 0 && !f.retryHooks {
		p.line("Nothing to do: the selection matches no " + kindsWord(kinds) + ".")
		return ExitOK
	}
	threads := l.target.Threads
	if f.threads > 0 {
		threads = f.threads
	}
	db, err := a.connect(ctx, l, threads+1)
	if err != nil {
		fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
		return ExitFailed
	}
	defer db.Close()
	unlock, err := a.lockTarget(ctx, db.Pool, l, f.noWait, p)
	if err != nil {
		fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
		if ctx.Err() != nil {
			return ExitCancelled
		}
		return ExitFailed
	}
	defer unlock()
	if err := a.hooks(ctx, db, l, "on-run-start", p); err != nil {
		fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
		return ExitFailed
	}
	if f.retryHooks {
		p.line("Running the on-run-end hooks again: they failed in the last run")
	}
	p.line(fmt.Sprintf("Running %d node%s with %d thread%s on target %s", len(order), plural(len(order)), threads, plural(threads), l.target.Name))
	compiled := make(map[string]string, len(l.compiled))
	for id, res := range l.compiled {
		compiled[id] = res.SQL
	}
	ex := &run.Executor{DB: db, M: l.man, C: l.comp, Compiled: compiled, ProjectDir: l.dir, TargetDir: targetDir, FullRefresh: f.fullRefresh, Empty: f.empty, Progress: p.progress}
	parents := func(id string) []string { return l.gr.Parents(id) }
	if want[manifest.Test] && len(kinds) > 1 {
		parents = a.buildParents(l, subset)
	}
	w := &run.Walk{Order: order, Parents: parents, Threads: threads, FailFast: f.failFast, Exec: ex.Exec, OnStart: p.start, OnEnd: p.end}
	results := w.Run(ctx)
	ex.Flush()
	cancelled := ctx.Err() != nil
	if !cancelled {
		if err := a.hooks(ctx, db, l, "on-run-end", p); err != nil {
			fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
			results = append(results, run.Result{ID: onRunEndID, Status: run.Error, Message: err.Error()})
			p.hookFailed("on-run-end", err)
		}
	}
	a.writeResults(l, targetDir, cmd, started, results)
	p.summary(time.Since(started), len(order))
	if cancelled {
		fmt.Fprintln(a.stderr, "strata: cancelled; statements that were running were cancelled on the server and rolled back")
		return ExitCancelled
	}
	for _, r := range results {
		if r.Status == run.Error || r.Status == run.Fail {
			return ExitFailed
		}
	}
	return ExitOK
}

func logWriter(f *os.File) io.Writer {
	if f == nil {
		return nil
	}
	return f
}

func kindsWord(kinds []manifest.Kind) string {
	var s []string
	for _, k := range kinds {
		s = append(s, string(k)+"s")
	}
	return strings.Join(s, ", ")
}

// buildParents makes a node wait for the tests of its parents, so that a
// failing error-severity test skips what depends on the tested node.
func (a *app) buildParents(l *loaded, subset map[string]bool) func(string) []string {
	testsOf := map[string][]string{}
	for id := range subset {
		n := l.man.Nodes[id]
		if n.Kind == manifest.Test && n.TestInfo != nil && n.TestInfo.Attached != "" {
			testsOf[n.TestInfo.Attached] = append(testsOf[n.TestInfo.Attached], id)
		}
	}
	return func(id string) []string {
		ps := l.gr.Parents(id)
		n := l.man.Nodes[id]
		if n.Kind == manifest.Test {
			return ps
		}
		out := append([]string(nil), ps...)
		for _, p := range ps {
			for _, t := range testsOf[p] {
				if l.man.Nodes[t].Config.Severity != "warn" && !needs(l, t, id) {
					out = append(out, t)
				}
			}
		}
		return out
	}
}

// needs reports whether test t reads node id or something built from it
// (a relationships test pointing at a child of the tested model); such a
// test cannot run before id, so id does not wait for it.
func needs(l *loaded, t, id string) bool {
	for _, d := range l.man.Nodes[t].DependsOn {
		if d == id {
			return true
		}
		for _, a := range l.gr.Ancestors(d, -1) {
			if a == id {
				return true
			}
		}
	}
	return false
}

// connect opens the target: the local cluster (started on demand) or a PostgreSQL URL.
func (a *app) connect(ctx context.Context, l *loaded, conns int) (*postgres.Adapter, error) {
	url, err := a.targetURL(ctx, l)
	if err != nil {
		return nil, err
	}
	return postgres.Connect(ctx, url, conns)
}

func (a *app) targetURL(ctx context.Context, l *loaded) (string, error) {
	t := l.target
	if t.Type == "local" {
		c, err := local.New(l.dir)
		if err != nil {
			return "", err
		}
		if err := c.Start(ctx); err != nil {
			return "", err
		}
		return c.URL(), nil
	}
	if t.URL != "" {
		return t.URL, nil
	}
	var parts []string
	for _, kv := range [][2]string{{"host", t.Host}, {"port", t.Port}, {"user", t.User}, {"password", t.Password}, {"dbname", t.DBName}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"='"+strings.ReplaceAll(strings.ReplaceAll(kv[1], `\`, `\\`), "'", `\'`)+"'")
		}
	}
	return strings.Join(parts, " "), nil
}

// lockTarget takes the advisory lock that keeps two runs on one target from interleaving.
func (a *app) lockTarget(ctx context.Context, pool *pgxpool.Pool, l *loaded, noWait bool, p *printer) (func(), error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	key := "strata:" + l.proj.Name
	var got bool
	if err := conn.QueryRow(ctx, "select pg_try_advisory_lock(hashtextextended($1, 0))", key).Scan(&got); err != nil {
		conn.Release()
		return nil, err
	}
	if !got {
		if noWait {
			conn.Release()
			return nil, fmt.Errorf("another strata run holds target %s (--no-wait was given)", l.target.Name)
		}
		p.line("Waiting for another strata run on target " + l.target.Name + " to finish ...")
		if _, err := conn.Exec(ctx, "select pg_advisory_lock(hashtextextended($1, 0))", key); err != nil {
			conn.Release()
			return nil, fmt.Errorf("waiting for the target lock: %w", err)
		}
	}
	return func() {
		_, _ = conn.Exec(context.Background(), "select pg_advisory_unlock(hashtextextended($1, 0))", key)
		conn.Release()
	}, nil
}

func (a *app) hooks(ctx context.Context, db *postgres.Adapter, l *loaded, which string, p *printer) error {
	hooks := l.proj.OnRunStart
	if which == "on-run-end" {
		hooks = l.proj.OnRunEnd
	}
	for _, h := range hooks {
		sql, err := l.comp.HookAt(h.Pos.File, h.Text, h.SQL, "")
		if err != nil {
			return err // placed in project.yaml already
		}
		if _, err := db.Pool.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %s hook failed: %v", h.Pos, which, postgres.Explain(err, sql, 0))
		}
	}
	if len(hooks) > 0 {
		p.line(fmt.Sprintf("Ran %d %s hook%s", len(hooks), which, plural(len(hooks))))
	}
	return nil
}
