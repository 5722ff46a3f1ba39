package bare

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestRunOrder: a model starts only once the models it reads are done,
// whatever the number of workers, and a failing statement names its model.
func TestRunOrder(t *testing.T) {
	url := pgtest.DB(t)
	ctx := context.Background()
	// A tree: m0 <- m1, m2; m1 <- m3; each reads its parent's table.
	models := []Model{
		{Name: "m0", Stmts: []string{"create table m0 as select 1 as x"}},
		{Name: "m1", Stmts: []string{"create table m1 as select x + 1 as x from m0"}, After: []int{0}},
		{Name: "m2", Stmts: []string{"create table m2 as select x + 2 as x from m0"}, After: []int{0}},
		{Name: "m3", Stmts: []string{"create table m3 as select x + 1 as x from m1"}, After: []int{1}},
	}
	for _, workers := range []int{1, 3} {
		for i := range models {
			models[i].Stmts = append([]string{"drop table if exists m" + string(rune('0'+i)) + " cascade"}, models[i].Stmts[len(models[i].Stmts)-1])
		}
		if _, err := Run(ctx, url, models, workers); err != nil {
			t.Fatalf("workers %d: %v", workers, err)
		}
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		var x int
		if err := conn.QueryRow(ctx, "select x from m3").Scan(&x); err != nil || x != 3 {
			t.Fatalf("workers %d: m3 holds %d (%v), want 3", workers, x, err)
		}
		conn.Close(ctx)
	}
	_, err := Run(ctx, url, []Model{{Name: "bad", Stmts: []string{"select 1/0"}}}, 2)
	if err == nil || !strings.Contains(err.Error(), "model bad") {
		t.Fatalf("a failing statement: got %v, want an error naming model bad", err)
	}
	if _, err := Run(ctx, url, []Model{{Name: "a", After: []int{1}}, {Name: "b", After: []int{0}}}, 2); err == nil {
		t.Fatal("a cycle: got no error")
	}
}
