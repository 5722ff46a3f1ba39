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
		n, err := postgres.RowEstimate(ctx, conn, pgname.Rel{Schema: "public", Name: name})
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
