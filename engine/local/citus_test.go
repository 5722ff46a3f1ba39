package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/pgtest"
	"strata/engine/local"
)

// startCitus starts c and stops it when the test ends.
func startCitus(t *testing.T, c *local.Citus) {
	t.Helper()
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
}

func query(t *testing.T, url, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func exec(t *testing.T, url string, sqls ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	for _, sql := range sqls {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

func checkStatus(t *testing.T, c *local.Citus, running bool) {
	t.Helper()
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range st {
		names = append(names, n.Name)
		if n.Running != running || !n.Initialized {
			t.Errorf("%s: running %v, initialized %v; want running %v", n.Name, n.Running, n.Initialized, running)
		}
	}
	if got := strings.Join(names, " "); got != "coordinator worker1 worker2" {
		t.Errorf("nodes = %s", got)
	}
}

// TestCitusProjectCluster: a project's local Citus cluster is a coordinator
// and two workers of their own, placed like the single local server (as
// root, a project the server account cannot enter gets the /var/tmp
// fallback, recorded in .strata); its tables are sharded over both workers;
// a later command finds it; it stops and starts again with its data and
// without registering its nodes twice.
func TestCitusProjectCluster(t *testing.T) {
	pgtest.NeedCitus(t)
	ctx := context.Background()
	project := t.TempDir()
	c, err := local.NewCitus(project, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if strings.HasPrefix(c.Root(), "/var/tmp/") {
			os.RemoveAll(c.Root())
		}
	})
	if os.Geteuid() == 0 {
		if !strings.HasPrefix(c.Root(), "/var/tmp/strata-") || !strings.HasSuffix(c.Root(), "-citus") {
			t.Fatalf("root = %q, want the fallback under /var/tmp", c.Root())
		}
	} else if c.Root() != filepath.Join(project, ".strata", "citus") {
		t.Fatalf("root = %q, want .strata/citus in the project", c.Root())
	}
	startCitus(t, c)
	checkStatus(t, c, true)
	url := c.URL()
	if got := query(t, url, "select count(*)::text from pg_dist_node"); got != "3" {
		t.Fatalf("pg_dist_node has %s nodes, want the coordinator and 2 workers", got)
	}
	exec(t, url, "create table t (id int, v text)", "select create_distributed_table('t', 'id')",
		"insert into t select g, 'v' || g from generate_series(1, 100) as g")
	if got := query(t, url, "select count(distinct nodename)::text from pg_dist_shard_placement"); got != "2" {
		t.Errorf("shards are on %s nodes, want both workers", got)
	}

	c2, err := local.NewCitus(project, 2)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Root() != c.Root() || c2.URL() != url {
		t.Errorf("second NewCitus: root %q url %q, want %q %q", c2.Root(), c2.URL(), c.Root(), url)
	}
	if err := c2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	checkStatus(t, c, false)
	if err := c2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	checkStatus(t, c, true)
	if got := query(t, url, "select count(*)::text from t"); got != "100" {
		t.Errorf("after a restart t has %s rows, want 100", got)
	}
	if got := query(t, url, "select count(*)::text from pg_dist_node"); got != "3" {
		t.Errorf("after a restart pg_dist_node has %s nodes, want 3", got)
	}
}

// TestCitusMovedCluster: when the cluster's folder moves (a moved
// project), every node gets new socket directories and the coordinator's
// node list follows them rather than pointing at the old ones.
func TestCitusMovedCluster(t *testing.T) {
	pgtest.NeedCitus(t)
	ctx := context.Background()
	dir := pgtest.ReachableDir(t)
	c, err := local.NewCitusAt(filepath.Join(dir, "a"), 2)
	if err != nil {
		t.Fatal(err)
	}
	startCitus(t, c)
	exec(t, c.URL(), "create table t (id int)", "select create_distributed_table('t', 'id')", "insert into t select generate_series(1, 10)")
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	moved, err := local.NewCitusAt(filepath.Join(dir, "b"), 2)
	if err != nil {
		t.Fatal(err)
	}
	startCitus(t, moved)
	if got := query(t, moved.URL(), "select count(*)::text from t"); got != "10" {
		t.Errorf("t has %s rows after the move, want 10", got)
	}
	got := query(t, moved.URL(), "select string_agg(nodename, ' ' order by groupid) from pg_dist_node")
	want := strings.Join([]string{filepath.Join(dir, "b", "coordinator", "run"), filepath.Join(dir, "b", "worker1", "run"), filepath.Join(dir, "b", "worker2", "run")}, " ")
	if got != want {
		t.Errorf("pg_dist_node after the move:\n%s\nwant\n%s", got, want)
	}
}
