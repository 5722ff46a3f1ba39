package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/internal/pgtest"
)

// TestCitusRunOnAFullServer: on a Citus coordinator with room for fewer
// connections than --threads, a build of incremental models colocated with
// a table waits for the run's own connections, as on PostgreSQL
// (TestRunOnAFullServer): reading how the table they colocate with is
// placed took a connection of its own, not waited for, and failed the
// model with 'too many clients already'.
func TestCitusRunOnAFullServer(t *testing.T) {
	url := pgtest.CitusDB(t)
	files := map[string]string{"project.yaml": "name: cfull\n", "models/a.sql": "select g as id from generate_series(1, 4) g"}
	yml := "models:\n  - name: a\n    config: {materialized: table, distributed_by: id}\n"
	for i := range 8 {
		files[fmt.Sprintf("models/b%d.sql", i)] = "select g as id from generate_series(1, 4) g, pg_sleep(0.2)"
		yml += fmt.Sprintf("  - name: b%d\n    config: {materialized: incremental, unique_key: id, distributed_by: id, colocate_with: a}\n", i)
	}
	files["models/models.yml"] = yml
	dir := writeProject(t, url, files)
	must(t, 0, dir, "build")

	// The coordinator is filled (max_connections) but for three: the run
	// lock's and two for the nodes.
	ctx := context.Background()
	var held []*pgconn.PgConn
	t.Cleanup(func() {
		for _, c := range held {
			c.Close(ctx)
		}
	})
	for len(held) < 500 {
		c, err := pgconn.Connect(ctx, url)
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == "53300" {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	if len(held) < 3 {
		t.Fatalf("the coordinator took %d connections", len(held))
	}
	var pids []string
	for _, c := range held[len(held)-3:] {
		pids = append(pids, fmt.Sprint(c.PID()))
		c.Close(ctx)
	}
	held = held[:len(held)-3]
	// A closed connection's backend leaves its slot as it exits, a moment
	// after the client has gone: the build must not race it.
	until(t, "the three closed connections' backends exit", func() bool {
		res := held[0].Exec(ctx, "select count(*) from pg_stat_activity where pid in ("+strings.Join(pids, ",")+")")
		rs, err := res.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return len(rs) == 1 && len(rs[0].Rows) == 1 && string(rs[0].Rows[0][0]) == "0"
	})

	out := must(t, 0, dir, "build", "--threads", "8")
	mustContain(t, out, "The server has no room for another connection", "PASS=9 WARN=0 FAIL=0 ERROR=0 SKIP=0")
}
