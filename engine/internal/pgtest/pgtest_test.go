package pgtest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestDBIsFreshAndDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL; skipped under -short")
	}
	ctx := context.Background()
	var name string
	t.Run("use", func(t *testing.T) {
		conn := connect(t, DB(t))
		var n int
		err := conn.QueryRow(ctx, "select count(*) from pg_class where relnamespace = 'public'::regnamespace").Scan(&n)
		if err != nil || n != 0 {
			t.Fatalf("relations in public: %d, %v; want an empty database", n, err)
		}
		if _, err := conn.Exec(ctx, "create table t (id int); insert into t values (1)"); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, "select current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		// Left open on purpose: the drop must end this session itself.
	})
	admin := connect(t, cluster.URL())
	var exists bool
	if err := admin.QueryRow(ctx, "select exists (select from pg_database where datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if name == "" || exists {
		t.Errorf("database %q still exists after its test ended", name)
	}
}

func TestDBParallel(t *testing.T) {
	seen := sync.Map{}
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			url := DB(t)
			if _, dup := seen.LoadOrStore(url, true); dup {
				t.Errorf("url %s handed out twice", url)
			}
			conn := connect(t, url)
			if _, err := conn.Exec(context.Background(), "create table t as select generate_series(1, 1000) as id"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestHarnessSettings(t *testing.T) {
	conn := connect(t, DB(t))
	want := map[string]string{"fsync": "off", "full_page_writes": "off", "wal_level": "minimal", "max_connections": "200"}
	if os.Getenv(DurableEnv) == "1" {
		want["fsync"], want["full_page_writes"] = "on", "on"
	}
	for name, want := range want {
		var got string
		if err := conn.QueryRow(context.Background(), "select current_setting($1)", name).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
}

// TestDurableSettings: under DurableEnv the harness keeps fsync and
// full-page writes, as the development cluster has them.
func TestDurableSettings(t *testing.T) {
	for _, durable := range []bool{false, true} {
		got := map[string]string{}
		for _, kv := range harnessSettings(durable) {
			got[kv[0]] = kv[1]
		}
		if _, off := got["fsync"]; off == durable {
			t.Errorf("durable=%v: fsync setting present=%v", durable, off)
		}
		if _, off := got["full_page_writes"]; off == durable {
			t.Errorf("durable=%v: full_page_writes setting present=%v", durable, off)
		}
		if got["max_connections"] != "200" {
			t.Errorf("durable=%v: max_connections = %q, want 200", durable, got["max_connections"])
		}
	}
}

// fatalTB records a Fatal and ends its goroutine, as testing.T does.
type fatalTB struct {
	*testing.T
	msg string
}

func (f *fatalTB) Helper()                   {}
func (f *fatalTB) Fatal(args ...any)         { f.msg = fmt.Sprint(args...); runtime.Goexit() }
func (f *fatalTB) Fatalf(s string, a ...any) { f.msg = fmt.Sprintf(s, a...); runtime.Goexit() }

func TestDBWithoutMainFails(t *testing.T) {
	mu.Lock()
	inMain = false
	mu.Unlock()
	defer func() {
		mu.Lock()
		inMain = true
		mu.Unlock()
	}()
	f := &fatalTB{T: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		DB(f)
	}()
	<-done
	if !strings.Contains(f.msg, "os.Exit(pgtest.Main(m))") {
		t.Errorf("DB without Main: %q, want it to say how to add TestMain", f.msg)
	}
}

func TestDBName(t *testing.T) {
	tests := []struct {
		test string
		n    int
		want string
	}{
		{"TestSeed/CRLF_input", 3, "t_testseed_crlf_input_3"},
		{"TestÜber#1", 12, "t_test_ber_1_12"},
		{strings.Repeat("x", 100), 7, "t_" + strings.Repeat("x", 59) + "_7"},
	}
	for _, tt := range tests {
		got := dbName(tt.test, tt.n)
		if got != tt.want || len(got) > 63 {
			t.Errorf("dbName(%q, %d) = %q (%d bytes), want %q", tt.test, tt.n, got, len(got), tt.want)
		}
	}
}
