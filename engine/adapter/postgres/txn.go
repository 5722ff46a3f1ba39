package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Txn is one transaction on one connection whose statements go out in as
// few round trips as possible. Queue holds statements; they are sent
// together, behind the "begin" that opens the transaction when it is not
// open yet, at the next Flush or before anything else is sent (a read goes
// out after the statements queued before it). A whole build (its new
// relation, its audit and its swap) is one Txn, so that a kill or a failure
// at any point leaves nothing of it behind.
type Txn struct {
	conn  *pgx.Conn
	begun bool
	queue []string
	// single: every statement goes out alone (OneAtATime).
	single bool
}

// OneAtATime makes t send each statement in a round trip of its own: for a
// Citus cluster, which passes the text of a DDL statement on to its
// workers, and sends them the whole query when the statement came with
// others (which they refuse).
func (t *Txn) OneAtATime() { t.single = true }

// NewTxn starts a transaction on conn; nothing is sent yet.
func NewTxn(conn *pgx.Conn) *Txn { return &Txn{conn: conn} }

// Within is a Txn inside the transaction tx, which its caller commits or
// rolls back: Commit and Rollback are not for it.
func Within(tx pgx.Tx) *Txn { return &Txn{conn: tx.Conn(), begun: true} }

// Queue adds statements to send.
func (t *Txn) Queue(stmts ...string) { t.queue = append(t.queue, stmts...) }

// Begun says whether the transaction was opened (or its "begin" sent with
// the statements queued).
func (t *Txn) Begun() bool { return t.begun }

// Queued is how many statements wait to be sent.
func (t *Txn) Queued() int { return len(t.queue) }

// Flush sends the queued statements in one round trip and returns their
// command tags. A failure is a *BatchError whose Index counts the queued
// statements (-1: the "begin" itself failed); the transaction is then
// aborted, and the caller rolls it back, or back to a savepoint.
func (t *Txn) Flush(ctx context.Context) ([]pgconn.CommandTag, error) {
	if len(t.queue) == 0 {
		return nil, t.open(ctx)
	}
	stmts := t.queue
	t.queue = nil
	off := 0
	if !t.begun {
		stmts = append([]string{"begin"}, stmts...)
		off = 1
		t.begun = true
	}
	tags, err := t.execBatch(ctx, stmts)
	if len(tags) >= off {
		tags = tags[off:]
	} else {
		tags = nil
	}
	var be *BatchError
	if errors.As(err, &be) {
		be.Index -= off
	}
	return tags, err
}

// execBatch sends stmts, in one round trip unless OneAtATime. Its failure
// is a *BatchError indexing stmts.
func (t *Txn) execBatch(ctx context.Context, stmts []string) ([]pgconn.CommandTag, error) {
	if !t.single {
		return ExecBatch(ctx, t.conn.PgConn(), stmts)
	}
	var tags []pgconn.CommandTag
	for i, s := range stmts {
		got, err := ExecBatch(ctx, t.conn.PgConn(), []string{s})
		tags = append(tags, got...)
		if err != nil {
			var be *BatchError
			if errors.As(err, &be) {
				be.Index += i
			}
			return tags, err
		}
	}
	return tags, nil
}

// open begins the transaction if nothing did yet.
func (t *Txn) open(ctx context.Context) error {
	if t.begun {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "begin"); err != nil {
		return err
	}
	t.begun = true
	return nil
}

// Commit sends what is queued with the commit, in one round trip.
func (t *Txn) Commit(ctx context.Context) error {
	_, err := t.FlushCommit(ctx)
	return err
}

// FlushCommit is Commit that returns the command tags of the statements
// that were queued (as Flush does), the commit's left out.
func (t *Txn) FlushCommit(ctx context.Context) ([]pgconn.CommandTag, error) {
	if !t.begun && len(t.queue) == 0 {
		return nil, nil
	}
	n := len(t.queue)
	t.Queue("commit")
	tags, err := t.Flush(ctx)
	if err == nil {
		t.begun = false
	} // else the transaction is aborted (or ended by the failed commit): Rollback
	return tags[:min(n, len(tags))], err
}

// Rollback forgets what is queued and rolls the transaction back. It runs
// even when ctx is cancelled (Ctrl-C): the point is to undo.
func (t *Txn) Rollback(ctx context.Context) error {
	t.queue = nil
	if !t.begun {
		return nil
	}
	t.begun = false
	_, err := t.conn.Exec(context.WithoutCancel(ctx), "rollback")
	return err
}

// RollbackTo forgets what is queued and undoes the transaction back to the
// savepoint, which stays.
func (t *Txn) RollbackTo(ctx context.Context, savepoint string) error {
	t.queue = nil
	_, err := t.conn.Exec(context.WithoutCancel(ctx), "rollback to savepoint "+savepoint)
	return err
}

// Exec sends what is queued, then sql.
func (t *Txn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if _, err := t.Flush(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return t.conn.Exec(ctx, sql, args...)
}

// Query sends what is queued, then the query.
func (t *Txn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if _, err := t.Flush(ctx); err != nil {
		return nil, err
	}
	return t.conn.Query(ctx, sql, args...)
}

// QueryRow sends what is queued, then the query.
func (t *Txn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if _, err := t.Flush(ctx); err != nil {
		return errRow{err}
	}
	return t.conn.QueryRow(ctx, sql, args...)
}

// Prepare sends what is queued, then describes sql (see ResultColumns).
func (t *Txn) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if _, err := t.Flush(ctx); err != nil {
		return nil, err
	}
	return t.conn.PgConn().Prepare(ctx, name, sql, nil)
}

// Conn is the transaction's connection, for what needs it whole (COPY);
// send what is queued first.
func (t *Txn) Conn() *pgx.Conn { return t.conn }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

var _ Querier = (*Txn)(nil)

// Values sends what is queued, then stmts in one round trip, and returns
// the first row each returned, as text (no values for a statement that
// returns no row; nil for a NULL). A failure is a *BatchError indexing
// stmts; the rows of the statements before it are returned.
func (t *Txn) Values(ctx context.Context, stmts []string) ([][]*string, error) {
	if _, err := t.Flush(ctx); err != nil {
		return nil, err
	}
	if err := t.open(ctx); err != nil {
		return nil, err
	}
	if t.single && len(stmts) > 1 {
		var vals [][]*string
		for i, s := range stmts {
			got, err := t.Values(ctx, []string{s})
			vals = append(vals, got...)
			if err != nil {
				var be *BatchError
				if errors.As(err, &be) {
					be.Index += i
				}
				return vals, err
			}
		}
		return vals, nil
	}
	mrr := t.conn.PgConn().Exec(ctx, BatchSQL(stmts))
	var vals [][]*string
	var failed error
	for mrr.NextResult() {
		res := mrr.ResultReader().Read()
		if res.Err != nil {
			failed = res.Err
			break
		}
		var row []*string
		if len(res.Rows) > 0 {
			for _, b := range res.Rows[0] {
				var v *string
				if b != nil {
					s := string(b)
					v = &s
				}
				row = append(row, v)
			}
		}
		vals = append(vals, row)
	}
	err := mrr.Close()
	if failed == nil {
		failed = err
	}
	if failed == nil {
		return vals, nil
	}
	return vals, batchError(stmts, len(vals), failed)
}

// Count reads a count(*), the first value of a row from Values.
func Count(row []*string) (int64, error) {
	if len(row) == 0 || row[0] == nil {
		return 0, errors.New("the query returned no count")
	}
	n, err := strconv.ParseInt(*row[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the query returned %q, not a count", *row[0])
	}
	return n, nil
}
