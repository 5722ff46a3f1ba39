package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/artifacts"
	"strata/engine/manifest"
	"strata/engine/run"
	"strata/engine/state"
)

// The project's hooks, by the name project.yaml gives them. OnRunEnd is also
// the id a failed on-run-end stands under in run_results.json, so that
// retry runs it again; OnRunStart the id of what stopped a run before its
// first node (NotStarted).
const (
	OnRunStart = "on-run-start"
	OnRunEnd   = "on-run-end"
)

// CheckEnded is the id, in the refusals of a build's check (FinishRefused,
// WriteEmptyJUnit), of a check that ended in an error before it had a
// result for each node (the connection lost, a catalog query refused):
// junit.xml has it as a failing case of its own, so that it is red.
const CheckEnded = "check"

// RunHooks runs the project's on-run-start or on-run-end hooks (which) on
// db, in order, and returns how many ran. The error of a failing hook
// names its place in project.yaml.
func (l *Project) RunHooks(ctx context.Context, db *postgres.Adapter, which string) (int, error) {
	hooks := l.Project.OnRunStart
	if which == OnRunEnd {
		hooks = l.Project.OnRunEnd
	}
	for _, h := range hooks {
		res, err := l.Compiler.HookAt(h.Pos.File, h.Text, h.SQL, "")
		if err != nil {
			return 0, err // placed in project.yaml already
		}
		if err := db.ExecScript(ctx, res.SQL); err != nil {
			if at, msg, ok := res.HookError(err); ok {
				return 0, fmt.Errorf("%s: %s hook failed: %s", at, which, msg)
			}
			return 0, fmt.Errorf("%s: %s hook failed: %v", h.Pos, which, err)
		}
	}
	return len(hooks), nil
}

// HookFailed is the result that records a failed on-run-end in run_results.json.
func HookFailed(err error) run.Result {
	return run.Result{ID: OnRunEnd, Status: run.Error, Message: err.Error()}
}

// NotStarted are the results of a run that ended before its first node
// (its on-run-start hooks failed, or it could not record itself in the
// target, err): err under OnRunStart, and each node of order skipped,
// which retry runs again.
func NotStarted(order []string, err error) []run.Result {
	out := []run.Result{{ID: OnRunStart, Status: run.Error, Message: err.Error()}}
	for _, id := range order {
		out = append(out, run.Result{ID: id, Status: run.Skipped, Message: "skipped: the run stopped before its first node (" + OnRunStart + ")"})
	}
	return out
}

// RunOptions are how a run builds: the run flags, and the callbacks that
// report its progress.
type RunOptions struct {
	Threads               int
	FailFast, FullRefresh bool
	// FullRefreshSCD2 allows replacing an scd2 dimension, which drops its
	// history: with --full-refresh, or by another materialization.
	FullRefreshSCD2 bool
	// Locks is how builds wait for the locks readers hold (nil: the
	// target's policy, TargetLocks).
	Locks *postgres.LockPolicy
	// OnWait reports a build waiting for readers' locks.
	OnWait func(id string, w postgres.LockWait)
	// Invocation, when set (BeginState), records each node the run builds
	// in the target's state, in the transaction that builds it.
	Invocation string
	// OnStart and OnEnd report each node as the walker starts and ends it;
	// Progress reports long seed loads.
	OnStart  func(id string, index, total int)
	OnEnd    func(r run.Result, index, total int)
	Progress func(id string, done, total int64)
	// Unwritten reports, after the last node, the files of target/compiled/
	// and target/run/ that could not be written (how many, the first
	// error): those of an earlier run, if any, stay in their place.
	Unwritten func(files int, first error)
}

// Walk runs the nodes of s on db, Threads at a time, and returns one result
// per node, in s.Order. The SQL it ran is written under target/ before it
// returns.
func (l *Project) Walk(ctx context.Context, db *postgres.Adapter, s *Schedule, opt RunOptions) []run.Result {
	locks := opt.Locks
	if locks == nil {
		p := l.LockPolicy()
		locks = &p
	}
	ex := &run.Executor{DB: db, M: l.Manifest, C: l.Compiler, Compiled: l.Compiled, ProjectDir: l.Dir, TargetDir: l.TargetDir(),
		FullRefresh: opt.FullRefresh, Progress: opt.Progress, Audits: s.Audits, Locks: locks, Waiting: opt.OnWait}
	ex.FullRefreshSCD2 = opt.FullRefreshSCD2
	ex.Building = map[string]bool{}
	for _, id := range s.Order {
		ex.Building[id] = true
	}
	var taken map[string]error
	if opt.Invocation != "" {
		scope := l.Scope()
		ex.Record = func(n *manifest.Node, status string) string {
			return state.Write(scope, l.Record(n, l.Compiled[n.ID].SQL, status, opt.Invocation))
		}
		// The state was written by BeginState, so it reads; a read that
		// fails leaves the check to the scd2 model's own (it was one).
		if recs, err := state.Read(ctx, db.Shared(), scope); err == nil {
			ex.WasSCD2 = wasSCD2(l.Manifest, s.Order, recs)
		}
		// A relation another project builds is not replaced; a look-up
		// that fails leaves the nodes to build as before.
		taken, _ = l.takenElsewhere(ctx, db, s.Order)
	}
	// Unit tests need the columns of their inputs, which check reads once
	// for all of them before anything runs, waiting for locks as the
	// models do (locks, OnWait).
	ex.Unit = unitExec(l.UnitRunner(ctx, db, s.Order, *locks, opt.OnWait))
	w := &run.Walk{Order: s.Order, Parents: s.Parents, Threads: opt.Threads, FailFast: opt.FailFast, Exec: sayCancelled(ctx, haltWhenGone(db, refuseTaken(taken, ex.Exec))), OnStart: opt.OnStart, OnEnd: opt.OnEnd}
	results := w.Run(ctx)
	if n, err := ex.Flush(); n > 0 && opt.Unwritten != nil {
		opt.Unwritten(n, err)
	}
	return results
}

// Cancelled is the error of a node that the run's cancellation (Ctrl-C,
// SIGTERM) interrupted while it ran.
const Cancelled = "cancelled while it ran (Ctrl-C or SIGTERM): its transaction was rolled back"

// sayCancelled wraps exec so that a node that fails because runCtx, the run's
// context, was cancelled while it ran says so (Cancelled), instead of
// "context canceled" or the server's "canceling statement due to user
// request", and is not taken for a failure that skips its children
// (run.Result.Cancelled). A node that failed on anything else keeps its
// error.
func sayCancelled(runCtx context.Context, exec func(ctx context.Context, id string) run.Result) func(ctx context.Context, id string) run.Result {
	return func(ctx context.Context, id string) run.Result {
		r := exec(ctx, id)
		if r.Status == run.Error && runCtx.Err() != nil && interrupted(r.Err) {
			r.Message = Cancelled
			r.Placed = false
			r.Cancelled = true
		}
		return r
	}
}

// interrupted says whether err is what a cancelled context makes of a
// statement: the context's error, or the server's query_canceled.
func interrupted(err error) bool {
	var pg *pgconn.PgError
	return errors.Is(err, context.Canceled) || errors.As(err, &pg) && pg.Code == "57014"
}

// ServerGone is why a run stopped when its server went away (Result.Halt).
const ServerGone = "the server went away"

// haltWhenGone wraps exec so that a node that fails on a lost connection
// to a server that no longer answers halts the run (run.Result.Halt): no
// other node starts, to fail at once on no server. Nodes that fail while
// the server is gone say that their connection was lost.
func haltWhenGone(db *postgres.Adapter, exec func(ctx context.Context, id string) run.Result) func(ctx context.Context, id string) run.Result {
	var gone atomic.Bool
	return func(ctx context.Context, id string) run.Result {
		r := exec(ctx, id)
		if r.Status != run.Error || !postgres.ConnectionLost(r.Err) {
			return r
		}
		if !gone.Load() && ctx.Err() == nil && !db.Reachable(ctx) {
			gone.Store(true)
		}
		if gone.Load() {
			r.Halt = ServerGone
			r.Message += " (the connection was lost: " + ServerGone + ")"
		}
		return r
	}
}

// Halted is why a run was stopped by one of its results (ServerGone), or "".
func Halted(results []run.Result) string {
	for _, r := range results {
		if r.Halt != "" {
			return r.Halt
		}
	}
	return ""
}

// LockPolicy is how builds on the project's target wait for the locks its
// readers hold: the target's swap_lock_timeout and swap_max_wait, or the
// defaults.
func (l *Project) LockPolicy() postgres.LockPolicy {
	p := postgres.DefaultLockPolicy
	if l.Target != nil {
		if l.Target.SwapLockTimeout > 0 {
			p.Timeout = l.Target.SwapLockTimeout
		}
		if l.Target.SwapMaxWait != nil {
			p.MaxWait = *l.Target.SwapMaxWait
		}
	}
	return p
}

// Retry is what retry runs again: the last run's command and the nodes
// that failed, were skipped or never finished.
type Retry struct {
	Command string
	// Args are the flags the last run was given (nil when its
	// run_results.json does not say), Target the target it ran on.
	Args   *artifacts.RunArgs
	Target string
	// InProgress: the last run did not end (it was killed); IDs are the
	// nodes it did not complete.
	InProgress bool
	StartedAt  string
	// Env is the environment the last run built in.
	Env string
	IDs []string // never nil
	// Nodes are all the nodes the last run selected.
	Nodes []string
	// Hooks: the last run's on-run-end hooks failed, so the hooks run
	// even when no node is selected.
	Hooks bool
}

// RunRecordSnapshot is the record of the last run as read at one moment:
// a run_results.json and the run_progress.jsonl beside it.
type RunRecordSnapshot struct {
	path              string
	results, progress []byte
}

// ReadRunRecord reads the record of the last run of the project in dir,
// whatever its target: target/run_results.json. Its error leaves out the
// file's path.
func ReadRunRecord(dir string) (RunRecordSnapshot, error) {
	return readRunRecord(filepath.Join(dir, "target", "run_results.json"))
}

// ReadPlaceRecord reads the record of the last run of the project in dir
// on target in env ("" production), which no run of another target or
// environment writes to (artifacts.RunDir). Its error leaves out the
// file's path.
func ReadPlaceRecord(dir, target, env string) (RunRecordSnapshot, error) {
	return readRunRecord(filepath.Join(artifacts.RunDir(filepath.Join(dir, "target"), target, env), "run_results.json"))
}

func readRunRecord(path string) (RunRecordSnapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return RunRecordSnapshot{}, withoutPath(err)
	}
	progress, _ := os.ReadFile(filepath.Join(filepath.Dir(path), artifacts.ProgressFile))
	return RunRecordSnapshot{path: path, results: b, progress: progress}, nil
}

// Reread reads the record s was read from again.
func (s RunRecordSnapshot) Reread() (RunRecordSnapshot, error) { return readRunRecord(s.path) }

// Same reports whether s and o hold the same bytes: no run wrote to the
// record between the two reads.
func (s RunRecordSnapshot) Same(o RunRecordSnapshot) bool {
	return s.path == o.path && bytes.Equal(s.results, o.results) && bytes.Equal(s.progress, o.progress)
}

// LastRun is the last run as s recorded it.
func (s RunRecordSnapshot) LastRun() (*Retry, error) {
	prev, err := artifacts.ParseRunResults(s.path, s.results, s.progress)
	if err != nil {
		return nil, withoutPath(err)
	}
	// Like dbt, the hooks run around every run, a retry too; a failed
	// on-run-end hook is retried by running the hooks even when no node
	// failed.
	r := &Retry{Command: prev.Command, Env: prev.Env, IDs: []string{}, Args: prev.Args, Target: prev.Target, InProgress: prev.InProgress, StartedAt: prev.StartedAt}
	for _, res := range prev.Results {
		undone := res.Status == "error" || res.Status == "fail" || res.Status == "skipped"
		switch res.ID {
		case OnRunStart: // the hooks run around every run, the retry too
		case OnRunEnd:
			r.Hooks = r.Hooks || undone
		default:
			r.Nodes = append(r.Nodes, res.ID)
			if undone {
				r.IDs = append(r.IDs, res.ID)
			}
		}
	}
	return r, nil
}

// wasSCD2 are the models of order that the state recs records as last built
// as scd2 dimensions at the relation they have now, and that are another
// materialization now.
func wasSCD2(m *manifest.Manifest, order []string, recs map[string]*state.Node) map[string]bool {
	out := map[string]bool{}
	for _, id := range order {
		n, rec := m.Nodes[id], recs[id]
		if n == nil || rec == nil || n.Kind != manifest.Model || rec.Materialized != "scd2" || n.Config.Materialized == "scd2" || rec.Relation != n.Relation {
			continue
		}
		out[id] = true
	}
	return out
}
