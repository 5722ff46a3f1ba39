package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/check"
	"strata/engine/manifest"
	"strata/engine/run"
	"strata/engine/unittest"
)

// UnitRunner prepares the unit tests among ids to run on db: the columns
// of the models they test and of every input, typed by strata check in a
// transaction it rolls back, so nothing needs to be built first. Nil
// when ids hold no unit test.
//
// A model that exists is described by a temporary view of its SQL (which
// reads its inputs' descriptions), a seed whose file gives it other
// columns than its table has by an empty temporary table, a source as
// it exists: nothing that exists is replaced, so typing takes only the
// ACCESS SHARE lock a reader takes, which no reader waits for (a build
// runs the unit tests beside the readers of its tables). It does wait
// behind a session that holds a relation it reads exclusively (a DDL in
// an open transaction): as a model's swap waits, each attempt waits at
// most locks.Timeout, then check is tried again after a pause, each
// wait reported to waiting (LockWait.Typing) under the node whose SQL
// waited, until locks.MaxWait; then that node's unit tests fail on it.
// Only what does not exist is checked into being, as strata check would.
func (l *Project) UnitRunner(ctx context.Context, db *postgres.Adapter, ids []string, locks postgres.LockPolicy, waiting func(id string, w postgres.LockWait)) (*unittest.Runner, error) {
	need := unittest.Selected(l.Manifest, ids)
	if len(need) == 0 {
		return nil, nil
	}
	// The tested models and their inputs are typed as their SQL and
	// files say they are now (a parent changed since it was built, and
	// rebuilt by this run before the model, types the test's input with
	// its new columns), each described beside its relation when that
	// exists (check.Options.LeaveExisting).
	var res *check.Result
	locked := "" // the first node whose SQL waited for a lock in vain
	attempt := func() error {
		r, err := l.Check(ctx, db, need, check.Options{LeaveExisting: true, LockTimeout: locks.Timeout})
		if err != nil {
			return err
		}
		res, locked = r, ""
		for _, id := range r.Order {
			if n := r.Nodes[id]; n != nil && n.LockTimeout {
				locked = id
				return &pgconn.PgError{Code: "55P03", Message: n.Message}
			}
		}
		return nil
	}
	err := locks.Retry(ctx, attempt, func() error { return nil }, nil, func(w postgres.LockWait) {
		if waiting != nil {
			w.Typing = true
			waiting(locked, w)
		}
	})
	var gaveUp *postgres.ErrLockWait
	switch {
	case errors.As(err, &gaveUp) && res != nil:
		// The nodes that waited in vain fail their unit tests, saying how
		// long they waited.
		for _, n := range res.Nodes {
			if n.LockTimeout {
				n.Message += fmt.Sprintf(" (gave up after waiting %s in all, the target's swap_max_wait)", gaveUp.Waited.Round(time.Millisecond))
			}
		}
	case err != nil && !postgres.IsLockTimeout(err):
		return nil, fmt.Errorf("typing the inputs of the unit tests (strata check): %w", err)
	}
	r := &unittest.Runner{DB: db, M: l.Manifest, C: l.Compiler, Types: map[string][]unittest.Column{}, Missing: map[string]string{}, Rejected: map[string]bool{}}
	for id, n := range res.Nodes {
		switch n.Status {
		case check.OK, check.Existing:
			cols := make([]unittest.Column, len(n.Columns))
			for i, c := range n.Columns {
				cols[i] = unittest.Column{Name: c.Name, Type: c.Type}
			}
			r.Types[id] = cols
		default:
			r.Missing[id] = "strata check: " + n.Message
			r.Rejected[id] = n.Status == check.Error
		}
	}
	return r, nil
}

// unitExec runs unit tests with r for a run's walker; every unit test
// fails with err when r could not be made.
func unitExec(r *unittest.Runner, err error) func(ctx context.Context, n *manifest.Node) (run.Result, string, []string) {
	return func(ctx context.Context, n *manifest.Node) (run.Result, string, []string) {
		if err != nil {
			msg := err.Error()
			if ctx.Err() != nil {
				// Interrupted while typing the inputs.
				msg = unittest.Cancelled
			}
			return run.Result{Status: run.Error, Message: msg}, "", nil
		}
		res := r.Run(ctx, n)
		out := run.Result{Message: res.Message, Failures: res.Differing}
		switch res.Status {
		case unittest.Pass:
			out.Status = run.Pass
		case unittest.Fail:
			out.Status = run.Fail
		default:
			out.Status = run.Error
		}
		return out, res.Compiled, res.Executed
	}
}

// OnlyUnitTests says whether ids are all unit tests (and there is one).
func (l *Project) OnlyUnitTests(ids []string) bool {
	for _, id := range ids {
		if n := l.Manifest.Nodes[id]; n == nil || !n.IsUnit() {
			return false
		}
	}
	return len(ids) > 0
}
