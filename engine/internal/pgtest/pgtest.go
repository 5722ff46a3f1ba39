// Package pgtest is the integration-test harness: one PostgreSQL server per
// test binary, started on first use with strata's own local-cluster code in a
// temporary directory, and a fresh database per test, dropped when the test
// ends. When PostgreSQL cannot start, the test fails and says why; it never
// skips, except under `go test -short` (make test-short), which leaves out
// every test that needs the server.
//
// Use it from TestMain so the server stops when the tests end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.DB(t)
//		...
//	}
//
// Test binaries run in parallel without clashing: each server has its own
// directory and unix socket and no TCP port.
//
// CitusDB is the same for a Citus cluster (a coordinator and two workers),
// for the tests of strata on Citus; see citus.go.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/local"
	"strata/engine/pgname"
)

// dirPrefix names the temporary directories of harness servers, so a later
// run can find and stop the server of a test binary that was killed.
const dirPrefix = "strata-pgtest-"

// The state of this test binary's server. Package state is the point here:
// one server per test binary, shared by all its tests.
var (
	mu        sync.Mutex
	inMain    bool
	started   bool
	startErr  error
	dir       string // the temporary directory holding the clusters
	cluster   *local.Cluster
	admin     *pgconn.PgConn // connection to database postgres, for create/drop
	databases int            // databases made so far, to keep names unique
)

// Main runs the tests of a package and then stops the shared server and
// removes its directory. Use from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	mu.Lock()
	inMain = true
	mu.Unlock()
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// DB returns the URL of a fresh, empty database on the shared server,
// starting the server on first use; the database is dropped when the test
// ends, with any sessions still connected to it. If PostgreSQL cannot start,
// the test fails with the reason. Under -short the test is skipped: call DB
// before anything slow, so a short run does not pay for it.
func DB(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	mu.Lock()
	defer mu.Unlock()
	if !inMain {
		t.Fatal("pgtest: DB needs the server stopped after the tests: add `func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }` to the package's tests")
	}
	if testing.Short() {
		t.Skip("pgtest: needs PostgreSQL; skipped under -short")
	}
	if err := start(ctx); err != nil {
		t.Fatalf("pgtest: cannot start PostgreSQL: %v", err)
	}
	databases++
	name := dbName(t.Name(), databases)
	ident := pgname.Ident(name)
	// FILE_COPY from template0 takes ~15ms with fsync off, far less than the
	// default WAL_LOG strategy.
	if err := adminExec(ctx, "create database "+ident+" template template0 strategy file_copy"); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		mu.Lock()
		defer mu.Unlock()
		if admin == nil {
			return // the server is gone already
		}
		if err := adminExec(ctx, "drop database if exists "+ident+" with (force)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return cluster.URLFor(name)
}

// start starts the server once per test binary; mu is held. A failure is
// remembered, so every test reports it without trying again.
func start(ctx context.Context) error {
	if started {
		return startErr
	}
	started = true
	startErr = func() error {
		if err := makeDir(); err != nil {
			return err
		}
		var opts []local.Option
		for _, kv := range harnessSettings(os.Getenv(DurableEnv) == "1") {
			opts = append(opts, local.WithSetting(kv[0], kv[1]))
		}
		var err error
		cluster, err = local.NewAt(filepath.Join(dir, "pg"), opts...)
		if err != nil {
			return err
		}
		if err := cluster.Start(ctx); err != nil {
			return err
		}
		admin, err = pgconn.Connect(ctx, cluster.URL())
		return err
	}()
	return startErr
}

// makeDir creates the temporary directory of this test binary's servers,
// once; mu is held.
func makeDir() error {
	if dir != "" {
		return nil
	}
	reapOrphans(context.Background())
	d, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	// As root the servers run as the postgres account, which must be able
	// to enter this directory; the clusters inside stay private.
	if err := os.Chmod(d, 0o755); err != nil {
		return err
	}
	dir = d
	return nil
}

// DurableEnv, when set to 1, keeps the durability of the development
// cluster (fsync and full-page writes on) in the harness server, for
// benchmarks that compare write paths as a real server runs them.
const DurableEnv = "STRATA_PGTEST_DURABLE"

// harnessSettings trade durability for speed: a test server's data dies
// with it anyway. When durable, only the connection limit changes.
func harnessSettings(durable bool) [][2]string {
	if durable {
		return [][2]string{{"max_connections", "200"}}
	}
	return [][2]string{
		{"fsync", "off"},
		{"full_page_writes", "off"},
		{"max_connections", "200"},
		{"shared_buffers", "128MB"},
	}
}

// adminExec runs a statement on the admin connection, reconnecting once if
// the connection was lost; mu is held.
func adminExec(ctx context.Context, sql string) error {
	_, err := admin.Exec(ctx, sql).ReadAll()
	var pgErr *pgconn.PgError
	if err == nil || errors.As(err, &pgErr) {
		return err
	}
	admin.Close(ctx)
	admin, err = pgconn.Connect(ctx, cluster.URL())
	if err != nil {
		return err
	}
	_, err = admin.Exec(ctx, sql).ReadAll()
	return err
}

// shutdown stops the server and removes its directory.
func shutdown() error {
	mu.Lock()
	defer mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if admin != nil {
		admin.Close(ctx)
		admin = nil
	}
	var err error
	if cluster != nil {
		st, _ := cluster.Status(ctx)
		err = cluster.Stop(ctx)
		if err == nil && st.SocketDir != "" && !strings.HasPrefix(st.SocketDir, dir) {
			os.RemoveAll(st.SocketDir)
		}
	}
	err = errors.Join(err, stopCitus(ctx))
	if dir != "" && err == nil {
		err = os.RemoveAll(dir)
	}
	return err
}

// reapOrphans stops and removes the servers of earlier test binaries that
// died without shutting them down (killed, or timed out).
func reapOrphans(ctx context.Context) {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range matches {
		b, err := os.ReadFile(filepath.Join(d, "owner"))
		if err != nil {
			continue // being created right now, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		stopped := true
		if c, err := local.NewAt(filepath.Join(d, "pg")); err == nil {
			stopped = c.Stop(ctx) == nil
		}
		if _, err := os.Stat(filepath.Join(d, citusDir)); err == nil {
			c, err := local.NewCitusAt(filepath.Join(d, citusDir), citusWorkers)
			stopped = stopped && err == nil && c.Stop(ctx) == nil
		}
		if stopped {
			os.RemoveAll(d)
		}
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

var notIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// dbName makes a database name from a test name, unique by n and at most 63
// bytes (PostgreSQL's identifier limit).
func dbName(testName string, n int) string {
	base := notIdent.ReplaceAllString(strings.ToLower(testName), "_")
	base = strings.Trim(base, "_")
	suffix := "_" + strconv.Itoa(n)
	if max := 63 - len("t_") - len(suffix); len(base) > max {
		base = base[:max]
	}
	return "t_" + base + suffix
}

// ReachableDir is a temporary directory the server account can enter, for
// a project whose local cluster a test starts: as root, t.TempDir and its
// parent are 0700, closed to the postgres account (the cluster would live
// in /var/tmp instead of the project).
func ReachableDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
