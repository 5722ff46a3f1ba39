package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/internal/pgtest"
	"strata/engine/pgname"
)

// TestRowEstimate: a table's estimate is its reltuples (0 before any
// analyze); a partitioned table's counts each row once, whether the table
// itself, its partitions or both were analyzed.
func TestRowEstimate(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	estimate := func(name string) float64 {
		t.Helper()
		n, err := postgres.RowEstimate(ctx, conn, pgname.Rel{Schema: "public", Name: name}, false)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	exec(`create table plain as select g as id from generate_series(1, 300) g;
		create table parted (id int) partition by range (id);
		create table parted_a partition of parted for values from (0) to (200);
		create table parted_b partition of parted for values from (200) to (1000);
		insert into parted select g from generate_series(1, 300) g`)
	if got := estimate("plain"); got != 0 {
		t.Errorf("plain, never analyzed: %v, want 0", got)
	}
	exec("analyze plain; analyze parted_a; analyze parted_b")
	if got, want := estimate("plain"), 300.0; got != want {
		t.Errorf("plain: %v, want %v", got, want)
	}
	if got := estimate("parted"); got != 300 {
		t.Errorf("parted, its partitions analyzed: %v, want 300", got)
	}
	exec("analyze parted") // the table itself, and its partitions again
	if got := estimate("parted"); got != 300 {
		t.Errorf("parted, itself analyzed: %v, want 300 (each row once)", got)
	}
}

// TestCitusRowEstimate: on Citus, a distributed or reference table's
// estimate is its shards' rows, read on the workers: the coordinator's
// table is an empty shell, and its reltuples said 0 (so plan showed no
// rows, and an incremental load analyzed the whole table every run). A
// reference table's copies count once, a partitioned table's rows once.
func TestCitusRowEstimate(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.CitusDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		"create table dist (id int, k int)",
		"select create_distributed_table('dist', 'id')",
		"insert into dist select g, g % 97 from generate_series(1, 20000) g",
		"create table ref (id int)",
		"select create_reference_table('ref')",
		"insert into ref select g from generate_series(1, 3000) g",
		"create table parted (id int, day date) partition by range (day)",
		"create table parted_a partition of parted for values from ('2024-01-01') to ('2024-02-01')",
		"create table parted_b partition of parted for values from ('2024-02-01') to ('2024-03-01')",
		"select create_distributed_table('parted', 'id')",
		"insert into parted select g, date '2024-01-01' + (g % 50) from generate_series(1, 5000) g",
		"create table plain as select g as id from generate_series(1, 700) g",
		"analyze dist", "analyze ref", "analyze parted", "analyze plain",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for _, c := range []struct {
		name string
		rows float64
	}{{"dist", 20000}, {"ref", 3000}, {"parted", 5000}, {"plain", 700}} {
		got, err := postgres.RowEstimate(ctx, conn, pgname.Rel{Schema: "public", Name: c.name}, true)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got < c.rows/2 || got > c.rows*2 {
			t.Errorf("%s: estimate %v, want about %v", c.name, got, c.rows)
		}
	}
	est, err := postgres.CitusRowEstimates(ctx, conn, []string{"public.plain", "public.ref", "public.nothing", "public.dist"})
	if err != nil {
		t.Fatal(err)
	}
	if len(est) != 2 || est[1] < 1500 || est[1] > 6000 || est[3] < 10000 || est[3] > 40000 {
		t.Errorf("CitusRowEstimates = %v, want about ref 3000 at 1 and dist 20000 at 3, nothing else", est)
	}
}
