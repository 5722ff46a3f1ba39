package postgres

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestExplainPositions: the server's error position becomes a line of the
// body when the body's place in the statement is known, and nothing when
// it is not (bodyOffset -1) or lies outside it; never a panic.
func TestExplainPositions(t *testing.T) {
	stmt := "create table t as\nselect 1\nfrom nowhere"
	for _, tc := range []struct {
		pos        int32
		bodyOffset int
		line       int
	}{
		{pos: 28, bodyOffset: 18, line: 2},
		{pos: 1, bodyOffset: -1, line: 0},
		{pos: 12, bodyOffset: -1, line: 0},
		{pos: 5, bodyOffset: 18, line: 0},
		{pos: 500, bodyOffset: 0, line: 0},
	} {
		err := Explain(&pgconn.PgError{Code: "42P01", Message: "relation does not exist", Position: tc.pos}, stmt, tc.bodyOffset)
		e, ok := err.(*Error)
		if !ok {
			t.Fatalf("%+v: %T", tc, err)
		}
		if e.Line != tc.line || !strings.Contains(e.Error(), "relation does not exist [SQLSTATE 42P01]") {
			t.Errorf("%+v: line %d (%s), want %d", tc, e.Line, e.Error(), tc.line)
		}
		if _, known := e.Offset(); known != (tc.line > 0) {
			t.Errorf("%+v: offset known %v", tc, known)
		}
	}
}

// TestCitusShardsMoving: Citus's refusal to create a table in a colocation
// group whose shards are being moved is told apart from its other errors,
// and the table it names is read.
func TestCitusShardsMoving(t *testing.T) {
	const detail = "It means that either a concurrent shard move or colocated distributed table creation is happening."
	for _, c := range []struct {
		name  string
		err   error
		table string
		ok    bool
	}{
		{"colocate", &pgconn.PgError{Code: "XX000", Message: "could not acquire the lock required to colocate distributed table public.anchor", Detail: detail}, "public.anchor", true},
		{"wrapped", fmt.Errorf("select create_distributed_table(...): %w", &pgconn.PgError{Code: "XX000", Message: `could not acquire the lock required to colocate distributed table "Odd"."t"`, Detail: detail}), `"Odd"."t"`, true},
		{"another operation", &pgconn.PgError{Code: "XX000", Message: "could not acquire the lock required to rebalance public.t", Detail: detail}, "", true},
		{"another detail", &pgconn.PgError{Code: "XX000", Message: "could not acquire the lock required to colocate distributed table public.t"}, "", false},
		{"another code", &pgconn.PgError{Code: "55P03", Message: "could not acquire the lock required to colocate distributed table public.t", Detail: detail}, "", false},
		{"not PostgreSQL's", errors.New("could not acquire the lock required to colocate distributed table public.t"), "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			table, ok := CitusShardsMoving(c.err)
			if table != c.table || ok != c.ok {
				t.Errorf("CitusShardsMoving = %q, %v; want %q, %v", table, ok, c.table, c.ok)
			}
		})
	}
}
