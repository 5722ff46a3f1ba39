package postgres_test

import (
	"context"
	"testing"
	"time"

	"strata/engine/adapter/postgres"
	"strata/engine/internal/pgtest"
)

// TestConnectOpensItsConnectionsAtOnce: Connect opens the pool's
// connections side by side as it starts (a run needs one for its lock and
// one per thread), so that no build waits for a server process to start.
func TestConnectOpensItsConnectionsAtOnce(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Connect(ctx, pgtest.DB(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(10 * time.Second)
	for db.Pool.Stat().TotalConns() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open 10 s after Connect, want 3", db.Pool.Stat().TotalConns())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// They are the pool's: a command uses them without opening more.
	if got := db.Pool.Stat().MaxConns(); got != 3 {
		t.Errorf("at most %d connections, want 3", got)
	}
}
