package postgres_test

import (
	"context"
	"net"
	"strings"
	"sync"
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
