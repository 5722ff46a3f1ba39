package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"strata/engine/adapter/postgres"
	"strata/engine/artifacts"
	"strata/engine/check"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/pipeline"
	"strata/engine/project"
	"strata/engine/run"
)

func cmdSeed(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("seed", true)
	f.addSeedFlags()
	return a.execute(ctx, f, "seed", args)
}

func cmdRun(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("run", true)
	f.addRunFlags()
	f.addAuditFlags(true, false)
	return a.execute(ctx, f, "run", args)
}

func cmdTest(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("test", true)
	f.addWalkFlags()
	f.addEmptyFlag()
	return a.execute(ctx, f, "test", args)
}

func cmdBuild(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("build", true)
	f.addRunFlags()
	f.addAuditFlags(false, true)
	f.fs.BoolVar(&f.check, "check", false, "check the selection first (strata check) and build nothing when PostgreSQL rejects any of it")
	return a.execute(ctx, f, "build", args)
}

func cmdRetry(ctx context.Context, a *app, args []string) int {
	target := a.target
	for {
		// Each pass starts from retry's own flags: what the previous pass
		// took from a record that turned out stale is forgotten.
		a.target = target
		f := a.newFlags("retry", false)
		f.addRunFlags()
		// retry never waits for the run lock (a run holding it is the one
		// retry would repeat, or a later one), so --no-wait changes nothing;
		// it is still taken, as scripts give it to every command.
		f.fs.Lookup("no-wait").Usage = "taken and changes nothing: retry never waits, it fails when another run holds the target"
		f.addAuditFlags(true, true) // retry runs a run or a build again
		if code, done := a.parse(f, args); done {
			return code
		}
		if code, done := a.noArgs(f); done {
			return code
		}
		if f.audit && f.noAudit {
			fmt.Fprintln(a.stderr, "strata retry: --audit and --no-audit contradict each other: give one")
			return ExitBadInput
		}
		code := a.retryLast(ctx, f)
		if code != recordChanged {
			return code
		}
		a.say("Another run ended while retry started: retrying what that run left instead")
	}
}

// recordChanged is retryLast's word that another run wrote a new record
// of the last run after retry read it (retry waited for that run, or it
// ended just before): what retry read is stale.
const recordChanged = -1

// retryLast runs again what the last run recorded in run_results.json did
// not complete.
func (a *app) retryLast(ctx context.Context, f *flags) int {
	rec, code, ok := a.readRetryRecord(f)
	if !ok {
		return code
	}
	f.retryRecord = &rec
	prev, err := rec.LastRun()
	if err != nil {
		fmt.Fprintf(a.stderr, "strata retry: no earlier run to retry (%v)\n", err)
		return ExitBadInput
	}
	f.retryOf = prev
	// On the target and in the environment of the run it retries: the
	// record is that target's and environment's.
	if prev.Target != "" {
		a.target = prev.Target
	}
	f.env = prev.Env
	if len(prev.IDs) == 0 && !prev.Hooks && !prev.InProgress {
		a.say("Nothing to retry: the last run had no failures or skips.")
		return ExitOK
	}
	f.retryIDs, f.retryRan, f.retryHooks = prev.IDs, prev.Nodes, prev.Hooks
	if prev.InProgress && len(prev.IDs) == 0 {
		// Stopped after its last node: the record cannot say whether its
		// on-run-end hooks ran, so they are run (executeParsed says there
		// is nothing to retry when there are none, once it holds the run
		// lock: until then the run may be going on).
		f.retryHooks, f.retryEnded = true, prev
	}
	a.retryArgs(f, prev)
	if prev.Args == nil {
		// Recorded by a strata that kept no flags (before an upgrade):
		// they are not guessed, and not dropped without a word.
		a.say("Note: the last run (strata %s, started %s) was recorded by an older strata, which did not record the flags it was given: retry runs it without them. If it had --vars, --full-refresh, --full-refresh-scd2, --no-defer, --audit or --no-audit, give them to retry (strata retry --vars '...', --full-refresh, ...)", prev.Command, prev.StartedAt)
	}
	if prev.InProgress && len(prev.IDs) == 0 {
		f.retryNote = fmt.Sprintf("The last run (strata %s, started %s) did not finish: each of its nodes completed, but it may have stopped before its on-run-end hooks, which are run again", prev.Command, prev.StartedAt)
	} else if prev.InProgress {
		// Said once the run lock is held and the record is still this one:
		// until then the run may be going on.
		f.retryNote = fmt.Sprintf("The last run (strata %s, started %s) did not finish: running again the %d node%s it did not complete", prev.Command, prev.StartedAt, len(prev.IDs), plural(len(prev.IDs)))
	}
	return a.executeParsed(ctx, f, prev.Command)
}

// retryArgs gives f the flags of the run retry repeats, prev, except those
// given to retry itself: the same vars, refresh, threads, audit and
// defer flags and build's --check. (Selection flags are not needed:
// retry selects the nodes by id; the target and environment are the
// record's, retryRecord.)
func (a *app) retryArgs(f *flags, prev *pipeline.Retry) {
	args := prev.Args
	if args == nil {
		return // a run_results.json of a strata that did not record them
	}
	set := func(name string, apply func()) {
		if !f.fs.Changed(name) {
			apply()
		}
	}
	set("vars", func() { f.vars = args.Vars })
	set("full-refresh", func() { f.fullRefresh = args.FullRefresh })
	set("full-refresh-scd2", func() { f.fullSCD2 = args.FullRefreshSCD2 })
	set("threads", func() { f.threads = args.Threads })
	set("fail-fast", func() { f.failFast = args.FailFast })
	// --audit or --no-audit given to retry decides alone: the last run's
	// opposite flag would win over it.
	if !f.fs.Changed("audit") && !f.fs.Changed("no-audit") {
		f.audit, f.noAudit = args.Audit, args.NoAudit
	}
	set("no-defer", func() { f.noDefer = args.NoDefer })
	// retry has no --check of its own: a build --check is retried with its
	// check of the nodes retried.
	f.check = args.Check
}

// retryGrace is how long retry tries the run lock before it takes its
// holder for a run going on: the server ends the session of a killed run
// within about a second (client_connection_check_interval).
const retryGrace = 3 * time.Second

// lockSoon tries the run lock of project every 100ms for up to grace,
// without waiting in the server; postgres.ErrLocked when it is still held.
func lockSoon(ctx context.Context, db *postgres.Adapter, project string, run postgres.RunInfo, grace time.Duration) (func(), error) {
	deadline := time.Now().Add(grace)
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		unlock, err := db.LockRun(ctx, project, run, true, nil)
		if !errors.Is(err, postgres.ErrLocked) || time.Now().After(deadline) {
			return unlock, err
		}
	}
}

// retryLocked says why retry does not repeat prev, whose place (project,
// target and environment) another strata run holds the run lock of: prev
// is going on (its record says it has not ended), or a run started after
// it is, whose record retry would repeat once it ends.
func (a *app) retryLocked(ctx context.Context, db *postgres.Adapter, l *pipeline.Project, prev *pipeline.Retry) string {
	where := pipeline.RunPlace(l.Target.Name, l.Env())
	h, held := db.RunLockHolder(ctx, pipeline.LockName(l.Project.Name, l.Env()))
	holder := ""
	if held {
		holder = " (its run lock is held by " + h.String() + ")"
	}
	retry := pipeline.RetryCommand(l.Target.Name, l.Env())
	if prev.InProgress {
		if held { // the run is named already
			holder = " (its run lock is held by " + h.Session + ")"
		}
		return fmt.Sprintf("the run it would repeat (strata %s on %s, started %s) is still going on%s: wait for it to end, then %s repeats what it did not finish", prev.Command, where, prev.StartedAt, holder, retry)
	}
	return fmt.Sprintf("another strata run on %s is going on%s, started after the run it would repeat (strata %s, started %s): wait for it to end, then %s repeats what that run did not finish", where, holder, prev.Command, prev.StartedAt, retry)
}

// readRetryRecord reads the record of the run that retry repeats. Without
// --target, STRATA_TARGET and --env, it is the last run started in the
// folder, on its target and in its environment. With any, it is the last
// run on the target and in the environment that a build given the same
// flags (and environment variables) uses (--target or STRATA_TARGET
// alone is production): a run of another target or environment
// at the same time, which took another run lock and may have failed, is
// not that run. The record of each target and environment is its own
// (target/runs/); target/run_results.json is read when a strata that did
// not keep them wrote the record.
func (a *app) readRetryRecord(f *flags) (rec pipeline.RunRecordSnapshot, code int, ok bool) {
	// Outside a project, that is what to say, not that it ran nothing.
	if dir, err := filepath.Abs(a.projectDir); err == nil {
		if d, missing := project.Missing(dir); missing {
			a.printDiags(diag.List{d})
			return rec, ExitBadInput, false
		}
	}
	last, lastErr := pipeline.ReadRunRecord(a.projectDir)
	var lastRun *pipeline.Retry
	if lastErr == nil {
		lastRun, lastErr = last.LastRun()
	}
	if envTarget, _ := os.LookupEnv("STRATA_TARGET"); a.target == "" && envTarget == "" && !f.fs.Changed("env") {
		if errors.Is(lastErr, fs.ErrNotExist) {
			fmt.Fprintln(a.stderr, "strata retry: no earlier run to retry: there is no target/run_results.json (no seed, run, test or build has run in this folder since target/ was made)")
			return rec, ExitBadInput, false
		}
		if lastErr != nil {
			fmt.Fprintf(a.stderr, "strata retry: no earlier run to retry (%v)\n", lastErr)
			return rec, ExitBadInput, false
		}
		if lastRun.Args == nil {
			return last, 0, true // an older strata's: the last run (olderStrata below)
		}
		if own, err := pipeline.ReadPlaceRecord(a.projectDir, lastRun.Target, lastRun.Env); err == nil {
			return own, 0, true
		}
		return last, 0, true
	}
	target, err := pipeline.TargetName(a.projectDir, a.target, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(a.stderr, "strata retry: %v\n", err)
		return rec, ExitBadInput, false
	}
	env := f.env
	// A run recorded by an older strata (its flags not recorded) wrote
	// target/run_results.json alone, not target/runs/: it ran after every
	// run recorded there, each of which rewrote run_results.json, so it is
	// the last run on its target and environment, and the record there
	// (of a newer strata's run before it) is not.
	olderStrata := lastErr == nil && lastRun.Args == nil
	if olderStrata && lastRun.Target == target && lastRun.Env == env {
		return last, 0, true
	}
	if own, err := pipeline.ReadPlaceRecord(a.projectDir, target, env); err == nil {
		return own, 0, true
	}
	if lastErr == nil && lastRun.Target == target && lastRun.Env == env {
		return last, 0, true
	}
	msg := fmt.Sprintf("strata retry: no run on %s is recorded in target/", pipeline.RunPlace(target, env))
	if lastErr == nil && lastRun.Target != "" {
		msg += fmt.Sprintf(" (the last run, strata %s started %s, was on %s: %s retries it)", lastRun.Command, lastRun.StartedAt, pipeline.RunPlace(lastRun.Target, lastRun.Env), pipeline.RetryCommand(lastRun.Target, lastRun.Env))
	}
	fmt.Fprintln(a.stderr, msg)
	return rec, ExitBadInput, false
}

func (a *app) execute(ctx context.Context, f *flags, cmd string, args []string) int {
	if code, done := a.parse(f, args); done {
		return code
	}
	if code, done := a.noArgs(f); done {
		return code
	}
	return a.executeParsed(ctx, f, cmd)
}

// scd2FullRefreshRefused says whether --full-refresh without
// --full-refresh-scd2 is refused for the nodes of ids, which would
// destroy the history of their scd2 models, and says why on stderr. Build
// (and run, retry) refuse it, and check does, which previews that build.
func (a *app) scd2FullRefreshRefused(l *pipeline.Project, f *flags, cmd string, ids []string) bool {
	if !f.fullRefresh || f.fullSCD2 {
		return false
	}
	// Every one is named, so that the --exclude it suggests leaves them
	// all out (it named the first one alone, and a run that left it out
	// was refused for the next).
	dims := l.SCD2(ids)
	if len(dims) == 0 {
		return false
	}
	names := make([]string, len(dims))
	for i, n := range dims {
		names[i] = n.Name
	}
	slices.Sort(names)
	exclude := names[0]
	if len(names) > 1 {
		exclude = "'" + strings.Join(names, " ") + "'"
	}
	fmt.Fprintf(a.stderr, "strata %s: --full-refresh would destroy the history of scd2 model%s %s; add --full-refresh-scd2 to do that, or leave %s out with --exclude %s\n",
		cmd, plural(len(names)), strings.Join(names, ", "), pick(len(names) == 1, "it", "them"), exclude)
	return true
}

// executeParsed runs command cmd (seed, run, test or build) as f says: it
// prints each step of the pipeline's run and decides the exit code.
func (a *app) executeParsed(ctx context.Context, f *flags, cmd string) int {
	started := time.Now()
	l, selected, code, ok := a.loadSelection(ctx, f, cmd)
	if !ok {
		return code
	}
	kinds := pipeline.Kinds(cmd)
	s := l.Schedule(selected, kinds...)
	if f.audits(cmd) {
		l.Audit(s, selected)
	}
	if a.scd2FullRefreshRefused(l, f, cmd, s.Order) {
		return ExitBadInput
	}
	if missing := l.MissingSeeds(s.Order); len(missing) > 0 {
		var files []string
		for _, n := range missing {
			files = append(files, n.Path)
		}
		fmt.Fprintf(a.stderr, "strata %s: nothing was run: %d selected seed%s declared in YAML ha%s no CSV file: %s\n", cmd, len(files), plural(len(files)), pick(len(files) == 1, "s", "ve"), strings.Join(files, ", "))
		fmt.Fprintf(a.stderr, "Create %s (the warnings above say where each is declared), or leave the seeds out with --exclude resource_type:seed to read the tables loaded before.\n", pick(len(files) == 1, "it", "them"))
		return ExitBadInput
	}
	targetDir := l.TargetDir()
	if err := artifacts.Folder(targetDir); err != nil {
		fmt.Fprintf(a.stderr, "strata %s: %s; nothing was run\n", cmd, targetFolderProblem(targetDir, err))
		return ExitFailed
	}
	logPath := filepath.Join(targetDir, "strata.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		// Not a reason to stop the run, but the log a scheduled run is
		// read from afterwards would lack it without a word.
		fmt.Fprintf(a.stderr, "strata %s: warning: this run is not appended to target/strata.log: %s; its lines are on stdout only\n", cmd, logFileProblem(targetDir, logPath, err))
	} else {
		defer logFile.Close()
	}
	p := a.newPrinter(l.Manifest, nil)
	// The run's section of strata.log and its manifest.json are written
	// once it holds the run lock (or needs none): a run that waits for
	// another, or gives up on it (--no-wait), would put its header among
	// the other run's lines, which then read as its own, and replace the
	// manifest of the run going on.
	begin := func() {
		if logFile != nil {
			fmt.Fprintf(logFile, "\n=== %s %s\n", logHeading(f, cmd), time.Now().UTC().Format(time.RFC3339))
			p.log = logFile
		}
		if err := l.WriteManifest(); err != nil {
			fmt.Fprintf(a.stderr, "strata: writing target/manifest.json: %v\n", err)
		}
	}
	if len(s.Order) == 0 && !f.retryHooks {
		begin()
		p.line("Nothing to do: " + nothingMatched(l.Manifest, selected, kinds) + ".")
		return ExitOK
	}
	if f.empty {
		begin()
		// --empty builds nothing: it checks the selection, as strata check
		// does, so that no relation that holds data is ever replaced.
		// Unit tests are not something check proves: they are not run,
		// and said so, rather than counted among the nodes checked.
		var checked []string
		units := 0
		for _, id := range s.Order {
			if n := l.Manifest.Nodes[id]; n != nil && n.IsUnit() {
				units++
				continue
			}
			checked = append(checked, id)
		}
		if len(checked) == 0 {
			// Only unit tests: as strata check says of them, nothing to
			// check, and nothing is connected to; exit 0, their junit.xml
			// cases skipped.
			p.line(fmt.Sprintf("Nothing to do: --empty builds nothing, and the selection holds nothing to check: the %d selected unit test%s %s not run (strata test -s test_type:unit runs them)", units, plural(units), isAre(units)))
			if err := l.WriteEmptyJUnit(cmd, s.Order, true, nil); err != nil {
				fmt.Fprintf(a.stderr, "strata: %v\n", err)
			}
			return ExitOK
		}
		msg := fmt.Sprintf("--empty: nothing is built; the %d selected node%s %s checked against target %s in a transaction that is rolled back (strata check)", len(checked), plural(len(checked)), isAre(len(checked)), l.Target.Name)
		if units > 0 {
			msg += fmt.Sprintf("; the %d unit test%s %s not run (strata test -s test_type:unit runs them)", units, plural(units), isAre(units))
		}
		p.line(msg)
		res, code, err := a.checkAndReport(ctx, l, nil, ids(checked), check.Options{FullRefresh: f.fullRefresh, FullRefreshSCD2: f.fullSCD2}, started, a.reportMode())
		// No run is recorded, but junit.xml is this run's (build, test):
		// its tests skipped, the nodes the check refused failing (or the
		// check, when it ended in an error before it had a result for
		// each node, as under --check), or removed when it did not run
		// (cancelled, the target unreachable), so that CI does not read
		// an earlier run's passing tests as this run's, and its report
		// is as red as the job.
		if err := l.WriteEmptyJUnit(cmd, s.Order, res != nil || code == ExitFailed, refusedOrEnded(res, err)); err != nil {
			fmt.Fprintf(a.stderr, "strata: %v\n", err)
		}
		return code
	}
	threads := l.Target.Threads
	if f.threads > 0 {
		threads = f.threads
	}
	where := pipeline.RunPlace(l.Target.Name, l.Env())
	// One connection per node that can run at once, and one for the run
	// lock: --threads 200 for one model opened 201, as many as the
	// server's max_connections let it, shutting other clients out.
	db, err := l.Connect(ctx, max(1, min(threads, len(s.Order)))+1)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(a.stderr, "strata %s: cancelled while connecting to %s; nothing was run\n", cmd, where)
			return ExitCancelled
		}
		// Said with the target's name, as plan and check say it: a
		// project has several (an empty url's error names it already).
		if l.Target.EmptyURL == "" {
			err = fmt.Errorf("target %s: %w", l.Target.Name, err)
		}
		fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
		return ExitFailed
	}
	defer db.Close()
	// A read-only connection fails at the first write, in words that do
	// not say where read-only was set: said here, before anything runs.
	if err := postgres.Writable(ctx, db.Shared()); err != nil {
		fmt.Fprintf(a.stderr, "strata %s: target %s: %s; nothing was run\n", cmd, l.Target.Name, oneLine(err.Error()))
		return ExitFailed
	}
	db.OnFull(func(open int) {
		p.line(fmt.Sprintf("The server has no room for another connection (its max_connections are taken): running the nodes on the %d connection%s this run has, not %d at once", open, plural(open), threads))
	})
	waitStart := time.Time{}
	// retry never waits: a run that holds the lock of the place it
	// retries is going on, the run it would repeat or one started after
	// it, and repeating what that run has not finished yet would build it
	// twice at once.
	thisRun := postgres.RunInfo{Project: l.Project.Name, Target: l.Target.Name, Env: l.Env(), Command: cmd, Started: started}
	unlock, err := db.LockRun(ctx, pipeline.LockName(l.Project.Name, l.Env()), thisRun, f.noWait || f.retryOf != nil, func() {
		waitStart = time.Now()
		// Said with the run it waits for, when its lock's session says
		// which: a run of another target on the same database, or one
		// started hours ago, is the one to look at.
		line := "Waiting for another strata run on " + where + " to finish ..."
		if holder, ok := db.RunLockHolder(ctx, pipeline.LockName(l.Project.Name, l.Env())); ok {
			line += " (its run lock is held by " + holder.String() + ")"
		}
		p.line(line)
	})
	if errors.Is(err, postgres.ErrLocked) && f.retryOf != nil {
		// A run killed a moment ago (a CI job's timeout, then retry) holds
		// its lock until the server has seen its connection close, within
		// about a second: that is not a run going on.
		unlock, err = lockSoon(ctx, db, pipeline.LockName(l.Project.Name, l.Env()), thisRun, retryGrace)
	}
	if errors.Is(err, postgres.ErrLocked) && f.retryOf != nil {
		fmt.Fprintf(a.stderr, "strata retry: %s; nothing was run\n", a.retryLocked(ctx, db, l, f.retryOf))
		return ExitFailed
	}
	if errors.Is(err, postgres.ErrLocked) {
		// Said of where the lock is (an environment has its own), and
		// of who holds it, for the person a scheduler's failure reaches.
		err = fmt.Errorf("another strata run holds %s (--no-wait was given)", where)
		if holder, ok := db.RunLockHolder(ctx, pipeline.LockName(l.Project.Name, l.Env())); ok {
			err = fmt.Errorf("%w: its run lock is held by %s; nothing was run", err, holder)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			what := "taking the run lock"
			if !waitStart.IsZero() {
				what = "waiting for the other strata run"
			}
			fmt.Fprintf(a.stderr, "strata %s: cancelled while %s on %s; nothing was run\n", cmd, what, where)
			return ExitCancelled
		}
		fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
		return ExitFailed
	}
	defer unlock()
	begin()
	if !waitStart.IsZero() {
		p.line(fmt.Sprintf("Waited %s for the other strata run on %s", time.Since(waitStart).Round(10*time.Millisecond), where))
	}
	// retry read the record of a run that may have been going on then (it
	// waited for it above), or that ended between that read and the lock:
	// when a run has written a new record since, retry reads that one.
	if f.retryRecord != nil {
		now, err := f.retryRecord.Reread()
		if err != nil || !now.Same(*f.retryRecord) {
			return recordChanged
		}
		if e := f.retryEnded; e != nil {
			// Stopped after its last node, and it is not running: its
			// on-run-end hooks are all that may be left, if it had any.
			why := ""
			if len(l.Project.OnRunEnd) == 0 {
				why = "the project has no on-run-end hooks to run again"
			} else if l.OnlyUnitTests(e.Nodes) {
				why = "a run of only unit tests runs no hooks"
			}
			if why != "" {
				p.line(fmt.Sprintf("Nothing to retry: each node of the last run (strata %s, started %s) completed, though it did not record its end, and %s.", e.Command, e.StartedAt, why))
				return ExitOK
			}
		}
		if f.retryNote != "" {
			p.line(f.retryNote)
		}
	}
	// The run is recorded in target/ as it starts, and each node as it
	// ends: a run that is killed leaves a truthful record for retry.
	args := f.runArgs()
	rec, err := l.StartResults(cmd, started, args, s.Order)
	if err != nil {
		fmt.Fprintf(a.stderr, "strata: %v\n", err)
	}
	defer rec.Close()
	// What --check proves: the selection but its unit tests, which it does
	// not run (they run before their models, and are said apart).
	var sel map[string]bool
	checks, units := 0, 0
	if f.check {
		sel = ids(s.Order)
		checks = len(checkable(l, sel))
		for id := range sel {
			if l.Manifest.Nodes[id].IsUnit() {
				units++
			}
		}
	}
	if f.check && checks == 0 {
		// Only unit tests, which check does not prove: nothing to check
		// (strata check says the same), and the build runs them. (A
		// retry of only the on-run-end hooks has no node at all.)
		if units > 0 {
			p.line(fmt.Sprintf("Nothing to check first (--check): the selection holds only %d unit test%s, which check does not prove: %s before the model%s %s test%s", units, plural(units), pick(units == 1, "it runs", "they run"), plural(units), pick(units == 1, "it", "they"), pick(units == 1, "s", "")))
		}
	} else if f.check {
		// Before anything changes: a selected node that PostgreSQL rejects
		// keeps the whole build from starting.
		msg := fmt.Sprintf("Checking the %d selected node%s first (--check), in a transaction that is rolled back", checks, plural(checks))
		switch {
		case units == 1:
			msg += "; the 1 selected unit test is not checked: it runs before the model it tests"
		case units > 1:
			msg += fmt.Sprintf("; the %d selected unit tests are not checked: they run before the models they test", units)
		}
		p.line(msg)
		res, code, err := a.checkAndReport(ctx, l, db, sel, check.Options{FullRefresh: f.fullRefresh, FullRefreshSCD2: f.fullSCD2}, started, a.reportMode())
		if code == ExitFailed && res != nil && !res.Failed() {
			// The check passed but target/check.json could not be
			// written (said above): the build it guards goes on.
			code = ExitOK
		}
		if code != ExitOK {
			if code == ExitCancelled {
				return code // recorded as not finished, as after a kill
			}
			if code == ExitFailed {
				fmt.Fprintf(a.stderr, "strata %s: nothing was built: the check above failed (--check)\n", cmd)
			}
			// Recorded as a run that built nothing (run_results.json,
			// junit.xml), not left to the last run's record: CI reads no
			// earlier run's passing tests, and retry builds the selection.
			// junit.xml has a failing case for each node the check
			// refused, or one for the check when it ended in an error
			// before it had a result for each node, so that CI's test
			// report is as red as the job.
			refused := refusedOrEnded(res, err)
			var skipped []run.Result
			for _, id := range s.Order {
				skipped = append(skipped, run.Result{ID: id, Status: run.Skipped, Message: "skipped: nothing was built: the check failed (--check)"})
			}
			for _, err := range rec.FinishRefused(skipped, refused) {
				fmt.Fprintf(a.stderr, "strata: %v\n", err)
			}
			return code
		}
	}
	// Unit tests read and write nothing of the target: a run of only
	// unit tests records nothing in strata_meta and runs no hooks, so
	// that it leaves the database as it was.
	runHooks := !l.OnlyUnitTests(s.Order) || f.retryHooks
	// A run that stops before its first node records that it ended so
	// (not as a run still going on), each node skipped: retry runs it again.
	notStarted := func(err error) {
		for _, werr := range rec.Finish(pipeline.NotStarted(s.Order, err)) {
			fmt.Fprintf(a.stderr, "strata: %v\n", werr)
		}
	}
	// Said once the run is recorded: a run killed after any line it
	// printed leaves a record that retry takes up.
	if warning, err := l.CitusIgnored(ctx, db, s.Order); err != nil {
		fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
		notStarted(err)
		return ExitFailed
	} else if warning != "" {
		p.line(warning)
	}
	var inv string
	if runHooks {
		// What this run builds is recorded in the target (strata_meta), each
		// node in the transaction that builds it.
		inv, err = l.BeginState(ctx, db, cmd, Version, started)
		if err != nil {
			err = fmt.Errorf("target %s: recording the run in strata_meta: %w", l.Target.Name, err)
			fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
			notStarted(err)
			return ExitFailed
		}
		if err := a.hooks(ctx, l, db, pipeline.OnRunStart, p); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(a.stderr, "strata %s: cancelled during the on-run-start hooks; nothing was run\n", cmd)
			} else {
				fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
				// Under --log-format json too: its stdout said nothing of
				// why nothing ran.
				p.hookFailed(pipeline.OnRunStart, err)
			}
			_ = l.EndState(context.WithoutCancel(ctx), db, inv, false)
			notStarted(err)
			return ExitFailed
		}
		if cmd != "test" {
			// Relations strata built and builds no more, which their
			// readers still read: said, not dropped.
			left, err := l.Leftovers(ctx, db)
			if err != nil {
				left = []string{fmt.Sprintf("warning: relations left by models no longer built there were not looked for: %v", err)}
			}
			for _, w := range left {
				p.line(w)
			}
		}
	}
	if f.retryHooks && f.retryEnded == nil {
		p.line("Running the on-run-end hooks again: they failed in the last run")
	}
	place := "target " + l.Target.Name
	if l.Env() != "" {
		// Which environment a retry repeats is known only from here.
		place += ", in environment " + l.Env()
	}
	p.line(fmt.Sprintf("Running %d node%s with %d thread%s on %s", len(s.Order), plural(len(s.Order)), threads, plural(threads), place))
	results := l.Walk(ctx, db, s, pipeline.RunOptions{Threads: threads, FailFast: f.failFast, FullRefresh: f.fullRefresh, FullRefreshSCD2: f.fullSCD2,
		OnStart: p.start, OnEnd: func(r run.Result, i, total int) { rec.End(r); p.end(r, i, total) },
		Progress: p.progress, OnWait: p.waiting, Invocation: inv,
		Unwritten: func(n int, err error) {
			fmt.Fprintf(a.stderr, "strata %s: warning: %s\n", cmd, unwrittenFiles(targetDir, n, err))
		}})
	cancelled := ctx.Err() != nil
	// A server that went away runs no hook and records nothing more.
	gone := pipeline.Halted(results) == pipeline.ServerGone
	if !cancelled && !gone && runHooks {
		if err := a.hooks(ctx, l, db, pipeline.OnRunEnd, p); err != nil {
			// Recorded as failed either way, so that retry runs them again.
			results = append(results, pipeline.HookFailed(err))
			if cancelled = ctx.Err() != nil; cancelled {
				fmt.Fprintf(a.stderr, "strata %s: cancelled during the on-run-end hooks\n", cmd)
			} else {
				fmt.Fprintf(a.stderr, "strata %s: %v\n", cmd, err)
				p.hookFailed(pipeline.OnRunEnd, err)
			}
		}
	}
	failed := false
	for _, r := range results {
		failed = failed || r.Status == run.Error || r.Status == run.Fail
	}
	if gone {
		// (strata_meta keeps the run as not ended, as after a kill.)
	} else if err := l.EndState(context.WithoutCancel(ctx), db, inv, !failed && !cancelled); err != nil {
		fmt.Fprintf(a.stderr, "strata %s: target %s: recording the end of the run in strata_meta: %v\n", cmd, l.Target.Name, err)
	}
	for _, err := range rec.Finish(results) {
		fmt.Fprintf(a.stderr, "strata: %v\n", err)
	}
	p.summary(time.Since(started), len(s.Order))
	if gone && !cancelled {
		a.serverGone(cmd, l, results)
		return ExitFailed
	}
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

// serverGone says, once, that the run stopped because the server went
// away, and what to do.
// It counts every node skipped, which retry runs: those not started once
// the server was gone, and those after a node that lost its connection
// (skipped because it failed).
func (a *app) serverGone(cmd string, l *pipeline.Project, results []run.Result) {
	skipped := 0
	for _, r := range results {
		if r.Status == run.Skipped {
			skipped++
		}
	}
	next := "When it is back, run `strata retry` to finish the run."
	if l.Target.Type == "local" {
		next = "Start it again with `strata db start`, then run `strata retry` to finish the run."
	}
	fmt.Fprintf(a.stderr, "strata %s: the PostgreSQL server went away (crash or restart): the run stopped; %d node%s skipped. %s\n",
		cmd, skipped, pick(skipped == 1, " was", "s were"), next)
}

// refusedBy are the nodes check result res (nil: none) refused, each an
// error with the check's message, which junit.xml reports as failing cases.
func refusedBy(res *check.Result) []run.Result {
	if res == nil {
		return nil
	}
	var refused []run.Result
	for _, id := range res.Order {
		if n := res.Nodes[id]; n != nil && n.Status == check.Error {
			refused = append(refused, run.Result{ID: id, Status: run.Error, Message: n.Message})
		}
	}
	return refused
}

// refusedOrEnded is refusedBy(res), or, when the check ended in error err
// before it had a result for each node (res nil), one failing result of
// the check itself (pipeline.CheckEnded) with that error.
func refusedOrEnded(res *check.Result, err error) []run.Result {
	if res == nil && err != nil {
		return []run.Result{{ID: pipeline.CheckEnded, Status: run.Error,
			Message: "strata check ended before it had checked every node, and nothing was built: " + oneLine(err.Error())}}
	}
	return refusedBy(res)
}

// runArgs are the flags of this run that retry repeats.
func (f *flags) runArgs() *artifacts.RunArgs {
	return &artifacts.RunArgs{Select: f.selects, Exclude: f.excludes, State: f.state, Vars: f.vars,
		FullRefresh: f.fullRefresh, FullRefreshSCD2: f.fullSCD2, Threads: f.threads, FailFast: f.failFast,
		Audit: f.audit, NoAudit: f.noAudit, Env: f.env, NoDefer: f.noDefer, Check: f.check}
}

// ids is a set of the given node ids.
func ids(order []string) map[string]bool {
	out := make(map[string]bool, len(order))
	for _, id := range order {
		out[id] = true
	}
	return out
}

// hooks runs the project's on-run-start or on-run-end hooks (which) and
// says how many ran.
func (a *app) hooks(ctx context.Context, l *pipeline.Project, db *postgres.Adapter, which string, p *printer) error {
	n, err := l.RunHooks(ctx, db, which)
	if err != nil {
		return err
	}
	if n > 0 {
		p.line(fmt.Sprintf("Ran %d %s hook%s", n, which, plural(n)))
	}
	return nil
}

// nothingMatched says why a selection scheduled nothing: it matched no
// node of the command's kinds, or, when the command builds models, only
// ephemeral ones, which build nothing on their own (they are inlined into
// the models that ref them), and then what to select instead.
func nothingMatched(m *manifest.Manifest, selected map[string]bool, kinds []manifest.Kind) string {
	if slices.Contains(kinds, manifest.Model) {
		var names []string
		for id := range selected {
			if n := m.Nodes[id]; n != nil && n.Kind == manifest.Model && n.Ephemeral() {
				names = append(names, n.Name)
			}
		}
		slices.Sort(names)
		if len(names) > 0 {
			quoted := make([]string, len(names))
			for i, n := range names {
				quoted[i] = strconv.Quote(n)
			}
			if len(names) == 1 {
				return fmt.Sprintf("the selection matches only the ephemeral model %s, which is inlined into the models that ref it and builds nothing on its own; select those models instead (-s %s+ selects it and what reads it)", quoted[0], names[0])
			}
			return fmt.Sprintf("the selection matches only the ephemeral models %s, which are inlined into the models that ref them and build nothing on their own; select those models instead (-s %s+ selects %s and what reads it)", strings.Join(quoted, ", "), names[0], quoted[0])
		}
	}
	return "the selection matches no " + kindsWord(kinds)
}

func kindsWord(kinds []manifest.Kind) string {
	var s []string
	for _, k := range kinds {
		s = append(s, string(k)+"s")
	}
	return strings.Join(s, ", ")
}

// pick is a when cond holds, else b: a word that agrees with a count.
func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}
