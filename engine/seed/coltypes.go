package seed

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ColumnTypeError is a type of column_types that PostgreSQL refuses (a type
// that does not exist, a precision out of range), for the runner to place
// at the column_types entry that set it.
type ColumnTypeError struct {
	Column, Type string
	Err          error
}

func (e *ColumnTypeError) Error() string {
	msg := e.Err.Error()
	var pgErr *pgconn.PgError
	if errors.As(e.Err, &pgErr) {
		msg = pgErr.Message
	}
	return fmt.Sprintf("column_types: %s: %s (expected a PostgreSQL type, such as bigint, numeric(12,2), date or text)", e.Column, msg)
}

func (e *ColumnTypeError) Unwrap() error { return e.Err }

// Execer runs a statement: a connection, or a transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// BadColumnType finds the first type of types, by column name, that q's
// server refuses; nil when it takes them all, or when a type cannot be
// tried (the caller's own error then stands). In a transaction (inTx),
// each type is tried under a savepoint, which a refusal rolls back to.
//
// The types passed project.CheckSeedColumnType: they are words, numbers,
// parentheses and brackets, safe to write into SQL.
func BadColumnType(ctx context.Context, q Execer, types map[string]string, inTx bool) *ColumnTypeError {
	for _, col := range sortedKeys(types) {
		typ := strings.TrimSpace(types[col])
		if inTx {
			if _, err := q.Exec(ctx, "savepoint strata_column_type"); err != nil {
				return nil
			}
		}
		_, err := q.Exec(ctx, "select null::"+typ)
		var pgErr *pgconn.PgError
		if err != nil && !errors.As(err, &pgErr) {
			return nil // not the type's fault: the connection's
		}
		if inTx {
			end := "release savepoint strata_column_type"
			if err != nil {
				end = "rollback to savepoint strata_column_type"
			}
			if _, err := q.Exec(ctx, end); err != nil {
				return nil
			}
		}
		if err != nil {
			return &ColumnTypeError{Column: col, Type: typ, Err: err}
		}
	}
	return nil
}
