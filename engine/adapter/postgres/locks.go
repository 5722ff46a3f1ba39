package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// LockPolicy is how a build takes the locks that readers of a relation
// hold it back from: the exclusive lock of a swap (a drop and a rename), a
// view redefined in place, a seed emptied in place. PostgreSQL queues
// every later reader behind a lock request that waits, so a build that
// waited for a long read without a limit would make all the readers that
// come after wait too. Each attempt waits at most Timeout (lock_timeout);
// when the lock is not granted in time, the attempt is undone and tried
// again after a pause, while the readers go on; a build gives up when it
// waited MaxWait in all (0: never).
type LockPolicy struct {
	Timeout time.Duration
	MaxWait time.Duration
}

// DefaultLockPolicy is the policy of a target that sets none.
var DefaultLockPolicy = LockPolicy{Timeout: 200 * time.Millisecond, MaxWait: 30 * time.Minute}

// Set is the statement that limits each lock wait to the policy's timeout
// until the transaction (or the savepoint it follows) ends.
func (p LockPolicy) Set() string {
	ms := p.Timeout.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	return fmt.Sprintf("set local lock_timeout = '%dms'", ms)
}

// Reset gives the rest of the transaction the session's lock_timeout back.
func (p LockPolicy) Reset() string { return "set local lock_timeout to default" }

// IsLockTimeout says whether err is a lock not granted within lock_timeout.
func IsLockTimeout(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "55P03"
}

// Pause is how long to wait before attempt n (from 2) at something
// another session holds: growing from a tenth of a second to five
// seconds, with some jitter so that two builds waiting for each other's
// readers do not keep colliding.
func Pause(n int) time.Duration {
	d := 100 * time.Millisecond << min(n-2, 6)
	d = min(d, 5*time.Second)
	return d/2 + rand.N(d)
}

// LockWait describes a build waiting for readers, for the log: the attempt
// that just timed out, how long the build waited so far, and the pause
// before the next attempt.
type LockWait struct {
	Attempt int
	Waited  time.Duration
	Pause   time.Duration
	// Typing: the wait is not to replace the node's relation but to read
	// the relations its SQL reads, while the inputs of the build's unit
	// tests are typed before its first node (nothing runs meanwhile).
	Typing bool
	// ShardsMoving: the wait is for Citus to finish moving shards of the
	// colocation group the node's new table joins (CitusShardsMoving),
	// which refuses it meanwhile; Group is a table of that group, when
	// Citus named one.
	ShardsMoving bool
	Group        string
	// Holders are the sessions that held what the attempt waited for, as
	// far as they are known (LockHolders).
	Holders []LockHolder
}

// ErrLockWait is returned when a build gave up waiting for readers.
type ErrLockWait struct {
	Waited time.Duration
	Err    error
	// Holders are the sessions that held up the last attempt, as far as
	// they are known (LockHolders).
	Holders []LockHolder
}

func (e *ErrLockWait) Error() string {
	who := "the sessions that hold locks on it"
	if len(e.Holders) > 0 {
		who = DescribeHolders(e.Holders, "it")
	}
	return fmt.Sprintf("gave up after waiting %s for %s (the target's swap_max_wait); the previous version was kept: %v", e.Waited.Round(time.Millisecond), who, e.Err)
}

func (e *ErrLockWait) Unwrap() error { return e.Err }

// Retry runs attempt until it does not fail on a lock timeout. Between two
// attempts, undo undoes what the failed one did (a rollback to a savepoint),
// held (when not nil) lists the sessions that held it up, and the pause is
// reported to waiting (when not nil) with them. It gives up with an
// *ErrLockWait that names them when the policy's MaxWait is over, and when
// ctx ends.
func (p LockPolicy) Retry(ctx context.Context, attempt func() error, undo func() error, held func() []LockHolder, waiting func(LockWait)) error {
	start := time.Now()
	for n := 1; ; n++ {
		err := attempt()
		if err == nil || !IsLockTimeout(err) || ctx.Err() != nil {
			return err
		}
		if uerr := undo(); uerr != nil {
			return uerr
		}
		var holders []LockHolder
		if held != nil {
			holders = held()
		}
		d := Pause(n + 1)
		waited := time.Since(start)
		if p.MaxWait > 0 && waited+d > p.MaxWait {
			return &ErrLockWait{Waited: waited, Err: err, Holders: holders}
		}
		if waiting != nil {
			waiting(LockWait{Attempt: n, Waited: waited, Pause: d, Holders: holders})
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
