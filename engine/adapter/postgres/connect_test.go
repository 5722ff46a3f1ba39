package postgres_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	for db.Stat().TotalConns() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open 10 s after Connect, want 3", db.Stat().TotalConns())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// They are the pool's: a command uses them without opening more.
	if got := db.Stat().MaxConns(); got != 3 {
		t.Errorf("at most %d connections, want 3", got)
	}
}

// TestConnectWaitsForItsConnectTimeout: a server that takes the
// connection and never answers is given up on after a while, saying so
// (it said "context deadline exceeded"); a connect_timeout in the url (or
// PGCONNECT_TIMEOUT) is waited for in full: Connect gave up after 15 s
// whatever it said.
func TestConnectWaitsForItsConnectTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	defer postgres.SetAnswerWait(postgres.SetAnswerWait(500 * time.Millisecond))
	url := "postgres://nobody@" + ln.Addr().String() + "/db?sslmode=disable"
	start := time.Now()
	_, err = postgres.Connect(context.Background(), url, 1)
	if err == nil || !strings.Contains(err.Error(), "the server did not answer within 500ms (a connect_timeout in the url, or PGCONNECT_TIMEOUT, sets how long to wait)") {
		t.Errorf("Connect to a server that never answers: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Connect gave up after %s, want about 500ms", d)
	}
	for _, c := range []struct {
		url string
		env string
	}{{url + "&connect_timeout=2", ""}, {url, "2"}} {
		t.Setenv("PGCONNECT_TIMEOUT", c.env)
		start = time.Now()
		_, err = postgres.Connect(context.Background(), c.url, 1)
		if d := time.Since(start); err == nil || d < 1900*time.Millisecond || d > 10*time.Second {
			t.Errorf("Connect (%s, PGCONNECT_TIMEOUT=%q) gave up after %s, want 2 s (its connect_timeout): %v", c.url, c.env, d, err)
		}
	}
}

// TestConnectSaysWhyTheServerRefused: a connection the server refuses is
// said by the server's answer alone, and a password it refused, or asked
// for and was not given, says where the password comes from. Over TCP with
// the default sslmode, a wrong password read "failed to connect to ...:
// tls error: server refused TLS connection" before the server's answer.
// The role is made to log in with a password by a line of pg_hba.conf of
// its own, removed when the test ends.
func TestConnectSaysWhyTheServerRefused(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) })
	var db, hba, orig string
	if err := admin.QueryRow(ctx, "select current_database(), current_setting('hba_file'), pg_read_file(current_setting('hba_file'))").Scan(&db, &hba, &orig); err != nil {
		t.Fatal(err)
	}
	role := "pw_" + db
	writeHBA := func(content string) {
		t.Helper()
		// csv with a delimiter and quote no line holds: each line as it
		// is (but empty ones, which csv would quote).
		if _, err := admin.Exec(ctx, fmt.Sprintf("copy (select l from unnest(string_to_array(%s, E'\\n')) l where l <> '') to %s with (format csv, delimiter E'\\x01', quote E'\\x02')",
			literal(content), literal(hba))); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, "select pg_reload_conf()"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // the postmaster reloads it asynchronously
	}
	if _, err := admin.Exec(ctx, "create role "+role+" login password 'right'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		writeHBA(strings.TrimSuffix(orig, "\n"))
		_, _ = admin.Exec(context.Background(), "drop role "+role)
	})
	writeHBA("local all " + role + " scram-sha-256\n" + strings.TrimSuffix(orig, "\n"))
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", t.TempDir()+"/none")
	as := func(userinfo, dbname string) string {
		u := strings.Replace(url, "postgres://postgres@", "postgres://"+userinfo+"@", 1)
		if u == url {
			t.Fatalf("cannot make a URL for another role from %s", url)
		}
		return strings.Replace(u, "/"+db+"?", "/"+dbname+"?", 1)
	}
	a, err := postgres.Connect(ctx, as(role+":right", db), 1)
	if err != nil {
		t.Fatalf("the right password: %v", err)
	}
	a.Close()
	for _, c := range []struct{ url, want string }{
		{as(role+":wrong", db), `password authentication failed for user "` + role + `" (SQLSTATE 28P01): the server refused the password given for role ` + role + ` (in the url, PGPASSWORD or ~/.pgpass): correct it`},
		{as(role, db), `password authentication failed for user "` + role + `" (SQLSTATE 28P01): the server asks role ` + role + ` for a password, and none was given: put it in the url (postgres://` + role + `:PASSWORD@...), or in PGPASSWORD or ~/.pgpass`},
		{as(role+":right", "nosuch"), `database "nosuch" does not exist (SQLSTATE 3D000)`},
	} {
		_, err := postgres.Connect(ctx, c.url, 1)
		if err == nil || !strings.HasSuffix(err.Error(), ": "+c.want) || strings.Contains(err.Error(), "failed to connect") {
			t.Errorf("Connect(%s) = %v, want it to end with %q", c.url, err, c.want)
		}
	}
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
