package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	as := limitedRole(t, "few_", 3)
	a, err := postgres.Connect(ctx, as, 9)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	unlock, err := a.LockRun(ctx, "full", postgres.RunInfo{}, true, nil)
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

// TestAcquireWaitsForASlotBeingFreed: a connection refused while none of
// the command's own could come back was the end ("the server has no free
// connection"), though a slot may be freed a moment later: a backend
// leaves its slot as it exits, after its client has gone, and the pool
// cancels the connections it was opening in the background when one of
// them is refused. TestCitusRunOnAFullServer failed so, now and then, at
// the build's start. Acquire now asks again for fullGrace; a server that
// stays full is still reported.
func TestAcquireWaitsForASlotBeingFreed(t *testing.T) {
	ctx := context.Background()
	as := limitedRole(t, "one_", 1)
	// The one slot is other's, given back 300 ms after Connect starts.
	other := connectWhenFree(t, as)
	go func() {
		time.Sleep(300 * time.Millisecond)
		other.Close(ctx)
	}()
	a, err := postgres.Connect(ctx, as, 1)
	if err != nil {
		t.Fatalf("Connect while the only slot is freed 300 ms later: %v", err)
	}
	a.Close()

	held := connectWhenFree(t, as)
	defer held.Close(ctx)
	start := time.Now()
	if _, err := postgres.Connect(ctx, as, 1); err == nil || !strings.Contains(err.Error(), "the server has no free connection") {
		t.Errorf("Connect to a server that stays full: %v, want 'the server has no free connection'", err)
	}
	t.Logf("a full server reported after %s", time.Since(start).Round(time.Millisecond))
}

// connectWhenFree connects to url, asking again while the server says the
// database is full: the backends of connections the test has just closed
// (limitedRole's, Connect's) keep their slots until they have exited,
// which on a loaded machine can be a second after Close returns.
func connectWhenFree(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := pgx.Connect(context.Background(), url)
		if err == nil {
			return c
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "53300" || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// limitedRole makes a role (prefix + the test's database name) that may
// log in, limits the test's database to limit connections, and returns
// the database's URL as that role; the limit applies to it, not being a
// superuser. The limit and the role go when the test ends.
func limitedRole(t *testing.T, prefix string, limit int) string {
	t.Helper()
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
	role := prefix + db
	for _, s := range []string{"create role " + role + " login", fmt.Sprintf("alter database %s connection limit %d", db, limit)} {
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
	return as
}
