package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// BatchError says which statement of a batch failed. Err is the database's
// error with its Position made relative to that statement, so callers place
// it exactly as if the statement had been sent alone.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string { return fmt.Sprintf("statement %d: %v", e.Index+1, e.Err) }
func (e *BatchError) Unwrap() error { return e.Err }

// BatchSQL is the text ExecBatch sends for stmts.
func BatchSQL(stmts []string) string { return strings.Join(stmts, ";\n") }

// ExecBatch sends stmts as one simple-protocol query: one round trip, and,
// as PostgreSQL runs a multi-statement query as one implicit transaction
// (unless it holds transaction control), all of them or none. It returns
// each statement's command tag. A failure is a *BatchError naming the
// statement: the server completes the statements before it one by one
// (CommandComplete), so their count is its index.
func ExecBatch(ctx context.Context, c *pgconn.PgConn, stmts []string) ([]pgconn.CommandTag, error) {
	mrr := c.Exec(ctx, BatchSQL(stmts))
	var tags []pgconn.CommandTag
	var failed error
	for mrr.NextResult() {
		tag, err := mrr.ResultReader().Close()
		if err != nil {
			failed = err
			break
		}
		tags = append(tags, tag)
	}
	err := mrr.Close()
	if failed == nil {
		failed = err
	}
	if failed == nil {
		return tags, nil
	}
	return tags, batchError(stmts, len(tags), failed)
}

// batchError places failed, the error of a batch of stmts of which
// completed ran, on the statement that failed.
func batchError(stmts []string, completed int, failed error) *BatchError {
	i := min(completed, len(stmts)-1)
	var pg *pgconn.PgError
	if errors.As(failed, &pg) && pg.Position > 0 {
		// Position counts characters from the start of the whole query
		// text. It also names the statement: a syntax error fails the whole
		// text before any statement runs, so the count of completed ones
		// would blame the first.
		start := 0
		for k, s := range stmts {
			n := utf8.RuneCountInString(s) + 2 // ";\n"
			if int(pg.Position) <= start+n || k == len(stmts)-1 {
				i = k
				break
			}
			start += n
		}
		local := *pg
		local.Position -= int32(start)
		failed = &local
	}
	return &BatchError{Index: i, Err: failed}
}
