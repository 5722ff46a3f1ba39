package postgres_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/internal/pgtest"
)

// TestAcquireOnAFullServer: eight threads taking turns on the two
// connections a full server leaves a run (besides its lock's) share them
// without asking the server for more at each turn. Each refused
// connection is a server process started and a FATAL line in the
// server's log, on a server its other clients have filled: every
// connection given back woke every waiting thread before it was back in
// the pool, and each asked the server for one (some 70 refusals for 40
// turns of 50 ms); a thread now asks the server again only now and then.
func TestAcquireOnAFullServer(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var db string
	if err := admin.QueryRow(ctx, "select current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	role := "few_" + db
	for _, s := range []string{"create role " + role + " login", "alter database " + db + " connection limit 3"} {
		if _, err := admin.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	admin.Close(ctx) // it counts against the limit too
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(ctx)
		for _, s := range []string{"alter database " + db + " connection limit -1", "drop role " + role} {
			if _, err := c.Exec(ctx, s); err != nil {
				t.Error(err)
			}
		}
	})
	as := strings.Replace(url, "postgres://postgres@", "postgres://"+role+"@", 1)
	if as == url {
		t.Fatalf("cannot make a URL for another role from %s", url)
	}
	a, err := postgres.Connect(ctx, as, 9)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	unlock, err := a.LockRun(ctx, "full", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	start := time.Now()
	var held, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				c, err := a.Acquire(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				n := held.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(50 * time.Millisecond)
				held.Add(-1)
				c.Release()
			}
		})
	}
	wg.Wait()
	t.Logf("40 turns of 50 ms in %s, %d refused", time.Since(start).Round(time.Millisecond), postgres.Refused(a))
	if m := most.Load(); m != 2 {
		t.Errorf("%d connections held at once, want 2", m)
	}
	if n := postgres.Refused(a); n > 25 {
		t.Errorf("the server refused %d connections Acquire asked for, want at most 25", n)
	}
}
