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
// server refuses for a table's column; nil when it takes them all, or when
// a type cannot be tried (the caller's own error then stands). Each is
// tried as the load uses it, as the column of a temporary table, which is
// rolled back: under a savepoint in a transaction (inTx), else in a
// transaction of its own. (Read as a value, null::serial is no type and
// a domain that is not null refuses the null, though both make columns.)
//
// The types passed project.CheckSeedColumnType: they are words, numbers,
// parentheses and brackets, safe to write into SQL.
func BadColumnType(ctx context.Context, q Execer, types map[string]string, inTx bool) *ColumnTypeError {
	begin, end := "begin", "rollback"
	if inTx {
		begin, end = "savepoint strata_column_type", "rollback to savepoint strata_column_type"
	}
	for _, col := range sortedKeys(types) {
		typ := strings.TrimSpace(types[col])
		if _, err := q.Exec(ctx, begin); err != nil {
			return nil
		}
		_, err := q.Exec(ctx, "create temporary table strata_column_type (c "+typ+")")
		// Rolled back whatever the error: a transaction left aborted would
		// fail the caller's next statement (current transaction is aborted).
		if _, err := q.Exec(ctx, end); err != nil {
			return nil
		}
		if err != nil && !typeFault(err) {
			return nil // not the type's fault: the connection's, a privilege's
		}
		if err != nil {
			return &ColumnTypeError{Column: col, Type: typ, Err: err}
		}
	}
	return nil
}

// typeFault says whether err, of a column's definition, is its type's: a
// syntax error or an undefined object (42, but for a privilege the role
// lacks, 42501: to create temporary tables), a value out of range (22, a
// precision) or a type that cannot make a column (0A).
func typeFault(err error) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || len(pg.Code) != 5 {
		return false
	}
	switch pg.Code[:2] {
	case "42":
		return pg.Code != "42501"
	case "22", "0A":
		return true
	}
	return false
}
