package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"strata/engine/adapter/postgres"
	"strata/engine/pgname"
	"strata/engine/pipeline"
	"strata/engine/state"
)

// readState reads production's state from the target when the command
// needs it: a state: selector without --state, or a build in an
// environment that defers to production. It returns the connection it
// used (nil when it needed none), for deferTo.
func (a *app) readState(ctx context.Context, l *pipeline.Project, f *flags, sel pipeline.Selection, cmd string) (*postgres.Adapter, int, bool) {
	usesState := pipeline.UsesState(sel)
	// compile --env NAME --no-defer needs nothing recorded: it renders
	// what it does not select as production places it. ls --env NAME
	// prints the nodes as the environment names them, deferring nothing
	// (its selection is what the selectors pick, in any environment).
	offline := cmd == "compile" && f.noDefer || cmd == "ls"
	if !usesState && (f.env == "" || offline) {
		return nil, 0, true
	}
	db, err := l.Connect(ctx, 1)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(a.stderr, "strata %s: cancelled while connecting to target %s; nothing was done\n", cmd, l.Target.Name)
			return nil, ExitCancelled, false
		}
		fmt.Fprintf(a.stderr, "strata %s: target %s: %s\n", cmd, l.Target.Name, oneLine(err.Error()))
		return nil, ExitFailed, false
	}
	err = l.ReadState(ctx, db.Shared())
	switch {
	case errors.Is(err, state.ErrMissing) && usesState:
		fmt.Fprintf(a.stderr, "strata %s: state: compares with what production recorded in target %s, and %v (or pass --state DIR, a folder with an earlier manifest.json)\n", cmd, l.Target.Name, err)
		db.Close()
		return nil, ExitBadInput, false
	case errors.Is(err, state.ErrMissing):
		// An environment over an empty production: Defer names what it lacks.
	case err != nil:
		fmt.Fprintf(a.stderr, "strata %s: target %s: %v\n", cmd, l.Target.Name, err)
		db.Close()
		return nil, ExitFailed, false
	}
	return db, 0, true
}

// deferTo adjusts the selection of a command in an environment: with
// --no-defer it adds what the selection's models read (a test's other
// model, which it does not add, reads as deferred); else refs to what is
// not selected read production's relations, and tests of those are left
// out.
func (a *app) deferTo(ctx context.Context, l *pipeline.Project, db *postgres.Adapter, f *flags, selected map[string]bool, cmd string) (map[string]bool, int, bool) {
	if cmd == "ls" {
		return selected, 0, true // ls --env defers nothing (readState)
	}
	if f.env == "" {
		if f.noDefer {
			fmt.Fprintf(a.stderr, "strata %s: --no-defer is for builds in an environment (--env NAME)\n", cmd)
			return nil, ExitBadInput, false
		}
		return selected, 0, true
	}
	if f.noDefer {
		var q postgres.Querier
		if db != nil {
			q = db.Shared()
		}
		out, left, err := l.NoDefer(ctx, q, selected, cmd, f.retryIDs != nil)
		if err != nil {
			fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
			return nil, ExitFailed, false
		}
		if len(left) > 0 {
			a.say("%d selected test%s not run in environment %s: %s a model or seed that neither this run, the environment nor production has built (%s)",
				len(left), pick(len(left) == 1, " is", "s are"), f.env, pick(len(left) == 1, "it reads", "they read"), strings.Join(left, ", "))
		}
		return out, 0, true
	}
	out, err := l.Defer(ctx, db.Shared(), selected, cmd)
	var de *pipeline.DeferError
	if errors.As(err, &de) {
		fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
		return nil, ExitFailed, false
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
		return nil, ExitFailed, false
	}
	if left := len(selected) - len(out); left > 0 {
		a.say("%d selected test%s not run in environment %s: %s only what is deferred to production, and passed there unchanged", left, pick(left == 1, " is", "s are"), f.env, pick(left == 1, "it reads", "they read"))
	}
	return out, 0, true
}

func cmdEnv(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("env", false)
	if code, done := a.parse(f, args); done {
		return code
	}
	rest := f.fs.Args()
	if len(rest) == 0 {
		fmt.Fprintln(a.stderr, "strata env: expected ls or drop NAME")
		return ExitBadInput
	}
	switch rest[0] {
	case "ls":
		if len(rest) != 1 {
			fmt.Fprintf(a.stderr, "strata env ls: unexpected argument %q\n", rest[1])
			return ExitBadInput
		}
		return a.envLs(ctx, f)
	case "drop":
		if len(rest) != 2 {
			fmt.Fprintln(a.stderr, "strata env drop: expected one environment name (strata env drop NAME)")
			return ExitBadInput
		}
		return a.envDrop(ctx, f, rest[1])
	}
	fmt.Fprintf(a.stderr, "strata env: unknown subcommand %q (expected ls or drop NAME)\n", rest[0])
	return ExitBadInput
}

// envProject loads the project for env ls and drop and connects to its target.
func (a *app) envProject(ctx context.Context, f *flags, cmd string) (*pipeline.Project, *postgres.Adapter, int) {
	l, diags, ok := a.load(ctx, f)
	a.printDiags(diags)
	if !ok {
		return nil, nil, ExitBadInput
	}
	// Two connections: env drop holds the environment's run lock on one.
	db, err := l.Connect(ctx, 2)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(a.stderr, "strata %s: cancelled while connecting to target %s; nothing was done\n", cmd, l.Target.Name)
			return nil, nil, ExitCancelled
		}
		fmt.Fprintf(a.stderr, "strata %s: target %s: %s\n", cmd, l.Target.Name, oneLine(err.Error()))
		return nil, nil, ExitFailed
	}
	return l, db, 0
}

func (a *app) envLs(ctx context.Context, f *flags) int {
	l, db, code := a.envProject(ctx, f, "env ls")
	if l == nil {
		return code
	}
	defer db.Close()
	envs, err := state.Envs(ctx, db.Shared(), l.Project.Name, l.Target.Name)
	if err != nil {
		fmt.Fprintf(a.stderr, "strata env ls: %v\n", err)
		return ExitFailed
	}
	if len(envs) == 0 {
		fmt.Fprintf(a.stderr, "No environments of project %s on target %s.\n", l.Project.Name, l.Target.Name)
		return ExitOK
	}
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tMODELS\tSIZE\tLAST BUILD")
	for _, e := range envs {
		last := "never" // only tests ran there
		if !e.LastBuild.IsZero() {
			last = e.LastBuild.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", e.Name, e.Models, bytesText(e.Bytes), last)
	}
	_ = w.Flush()
	return ExitOK
}

func (a *app) envDrop(ctx context.Context, f *flags, name string) int {
	if name == pgname.ProdEnv || name == "production" || name == "" {
		fmt.Fprintf(a.stderr, "strata env drop: %q is production, which env drop never drops\n", name)
		return ExitBadInput
	}
	l, db, code := a.envProject(ctx, f, "env drop")
	if l == nil {
		return code
	}
	defer db.Close()
	if err := pgname.CheckEnv(name, nil); err != nil {
		fmt.Fprintf(a.stderr, "strata env drop: %v\n", err)
		return ExitBadInput
	}
	if err := postgres.Writable(ctx, db.Shared()); err != nil {
		fmt.Fprintf(a.stderr, "strata env drop: target %s: %s; nothing was dropped\n", l.Target.Name, oneLine(err.Error()))
		return ExitFailed
	}
	scope := l.ProdScope()
	scope.Env = name
	thisRun := postgres.RunInfo{Project: l.Project.Name, Target: l.Target.Name, Env: name, Command: "env drop", Started: time.Now()}
	unlock, err := db.LockRun(ctx, pipeline.LockName(l.Project.Name, name), thisRun, false, func() {
		held := ""
		if holder, ok := db.RunLockHolder(ctx, pipeline.LockName(l.Project.Name, name)); ok {
			held = " (its run lock is held by " + holder.String() + ")"
		}
		a.say("Waiting for the strata run building environment %s to finish ...%s", name, held)
	})
	if err != nil {
		fmt.Fprintf(a.stderr, "strata env drop: %v\n", err)
		return ExitFailed
	}
	defer unlock()
	var schemas []string
	for _, sc := range l.EnvSchemas() {
		schemas = append(schemas, pgname.EnvSchema(sc, name))
	}
	dropped, err := state.Drop(ctx, db.Shared(), scope, schemas...)
	if err != nil {
		fmt.Fprintf(a.stderr, "strata env drop: environment %s: %s (nothing was dropped)\n", name, oneLine(err.Error()))
		return ExitFailed
	}
	if len(dropped.Relations) == 0 && len(dropped.Schemas) == 0 {
		a.say("Environment %s of target %s had nothing recorded; nothing to drop.", name, l.Target.Name)
		return ExitOK
	}
	var rels, parts []string
	for _, r := range dropped.Relations {
		rels = append(rels, r.String())
	}
	if len(rels) > 0 {
		parts = append(parts, fmt.Sprintf("%d relation%s (%s)", len(rels), plural(len(rels)), strings.Join(rels, ", ")))
	}
	if len(dropped.Schemas) > 0 {
		parts = append(parts, fmt.Sprintf("%d schema%s (%s)", len(dropped.Schemas), plural(len(dropped.Schemas)), strings.Join(dropped.Schemas, ", ")))
	}
	a.say("Dropped environment %s of target %s: %s.", name, l.Target.Name, strings.Join(parts, " and "))
	return ExitOK
}

// bytesText is a size as people read it.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
