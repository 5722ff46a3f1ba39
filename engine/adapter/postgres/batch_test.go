package postgres_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestExecBatch: the statements of a batch run as one transaction, the
// failing one is named, and its error position counts from its own start.
func TestExecBatch(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	pg := conn.PgConn()

	tags, err := postgres.ExecBatch(ctx, pg, []string{"create table t (id int)", "insert into t select generate_series(1, 3)"})
	if err != nil || len(tags) != 2 || tags[1].RowsAffected() != 3 {
		t.Fatalf("tags %v, err %v", tags, err)
	}

	// é: positions count characters, not bytes.
	_, err = postgres.ExecBatch(ctx, pg, []string{
		"insert into t values (10)",
		"select 'é' as a",
		"select 1 as x,\n  nope from t",
		"insert into t values (11)",
	})
	var be *postgres.BatchError
	if !errors.As(err, &be) || be.Index != 2 {
		t.Fatalf("err %v, want a failure of statement 3", err)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Position != 18 {
		t.Fatalf("position %v, want 18 (of %q)", pe, "select 1 as x,\n  nope from t")
	}
	if e := postgres.Explain(be.Err, "select 1 as x,\n  nope from t", 0); e.(*postgres.Error).Line != 2 {
		t.Errorf("line %d, want 2", e.(*postgres.Error).Line)
	}
	var n int
	if err := conn.QueryRow(ctx, "select count(*) from t").Scan(&n); err != nil || n != 3 {
		t.Errorf("%d rows (err %v): the statements before the failure were not rolled back", n, err)
	}

	// A syntax error fails the whole text before anything runs: the
	// position, not the count of completed statements, names the statement.
	_, err = postgres.ExecBatch(ctx, pg, []string{"select 'é'", "select 1 as id\nfrom (select 1) x\nwhere ;", "select 2"})
	if !errors.As(err, &be) || be.Index != 1 {
		t.Fatalf("err %v, want a failure of statement 2", err)
	}
	if e := postgres.Explain(be.Err, "select 1 as id\nfrom (select 1) x\nwhere ;", 0); e.(*postgres.Error).Line != 3 {
		t.Errorf("line %d, want 3", e.(*postgres.Error).Line)
	}

	// An error without a position (no such role) is still placed.
	_, err = postgres.ExecBatch(ctx, pg, []string{"select 1", "grant select on t to no_such_role"})
	if !errors.As(err, &be) || be.Index != 1 {
		t.Fatalf("err %v, want a failure of statement 2", err)
	}
}
