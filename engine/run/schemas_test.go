package run

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"strata/engine/adapter/postgres"
	"strata/engine/internal/pgtest"
)

// sent passes statements on to a real pool and keeps their SQL and
// arguments, as one line each.
type sent struct {
	q  postgres.Querier
	mu sync.Mutex
	// lines: each statement's SQL with its arguments.
	lines []string
}

func (s *sent) note(sql string, args []any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := sql
	for _, a := range args {
		if v, ok := a.([]string); ok {
			line += " [" + strings.Join(v, " ") + "]"
		} else if v, ok := a.(string); ok {
			line += " [" + v + "]"
		}
	}
	s.lines = append(s.lines, line)
}

func (s *sent) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	s.note(sql, args)
	return s.q.Exec(ctx, sql, args...)
}

func (s *sent) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	s.note(sql, args)
	return s.q.Query(ctx, sql, args...)
}

func (s *sent) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	s.note(sql, args)
	return s.q.QueryRow(ctx, sql, args...)
}

// naming counts the statements that name schema.
func (s *sent) naming(schema string) int {
	n := 0
	for _, l := range s.lines {
		if strings.Contains(l, schema) {
			n++
		}
	}
	return n
}

// TestSchemasAreAskedForOnceARun: the nodes of a run make sure of their
// schemas, and the eight seeds of the example, started at once in one
// schema, each asked the server whether raw exists (as did every other
// schema's first node): a round trip each on every build. A run now asks
// once which of its schemas exist, the nodes starting at once waiting
// for that answer, and creates only those that do not, a schema made
// since not asked for again.
func TestSchemasAreAskedForOnceARun(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "create schema raw; create schema staging"); err != nil {
		t.Fatal(err)
	}
	q := &sent{q: pool}
	var s schemaSet
	names := func() []string { return []string{"raw", "staging", "marts"} }
	ensure := func(schemas ...string) {
		var wg sync.WaitGroup
		errs := make([]error, len(schemas))
		for i, schema := range schemas {
			wg.Go(func() { errs[i] = s.ensure(ctx, q, names, schema) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("ensure %s: %v", schemas[i], err)
			}
		}
	}
	// The seeds at once, and a model in each of the other two schemas.
	ensure("raw", "raw", "raw", "raw", "raw", "raw", "raw", "raw", "staging", "marts")
	// The next nodes, and a store_failures' audit schema, not a node's.
	ensure("raw", "staging", "marts", "marts", "audit", "audit")
	ensure("audit")
	var found []string
	rows, err := pool.Query(ctx, "select nspname from pg_namespace where nspname in ('raw', 'staging', 'marts', 'audit') order by 1")
	if err == nil {
		found, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(found, " "); got != "audit marts raw staging" {
		t.Errorf("schemas after the run: %s; want audit marts raw staging", got)
	}
	all := strings.Join(q.lines, "\n")
	for _, tc := range []struct {
		schema string
		most   int // statements that may name it
	}{
		{"raw", 1},     // the one read of the run's schemas
		{"staging", 1}, // the same
		{"marts", 3},   // the read, then created: EnsureSchema's own look and create
		{"audit", 4},   // not a node's: created by the two at once (a look and a create each), then known
	} {
		if n := q.naming(tc.schema); n > tc.most {
			t.Errorf("%s was named in %d statements, want at most %d:\n%s", tc.schema, n, tc.most, all)
		}
	}
}
