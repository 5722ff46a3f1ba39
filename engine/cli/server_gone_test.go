package cli

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
	"strata/engine/pipeline"
)

// serverProcesses are the processes (a postmaster and its backends) whose
// working directory is dataDir, as /proc shows them.
func serverProcesses(t *testing.T, dataDir string) []int {
	t.Helper()
	want, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		want = dataDir
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join("/proc", p.Name(), "cwd")); err == nil && cwd == want {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestServerGoneStopsTheRun (issue 21 item 8): when the server goes away
// in the middle of a run (here the local one, stopped, every backend of it
// gone), the run starts no other node: it says once that the server went
// away and, for the local target, to run strata db start; retry then
// completes the run. db destroy removes the cluster, saying what it
// removed; clean --all removes target/ and the cluster.
func TestServerGoneStopsTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL; skipped under -short")
	}
	dir := pgtest.ReachableDir(t)
	files := map[string]string{
		"project.yaml":      "name: sg\nvars: {sleep: 0}\nmodels: {'.': {materialized: table}}\n",
		"models/a_slow.sql": `select 1 as x from (select pg_sleep({{ var "sleep" }})) s`,
	}
	for i := 1; i <= 5; i++ {
		files["models/b"+strconv.Itoa(i)+".sql"] = "select 1 as id"
	}
	// c is after a_slow: skipped because a_slow failed, not for the
	// server, and counted with the others that retry runs.
	files["models/c.sql"] = `select x from {{ ref "a_slow" }}`
	writeFiles(t, dir, files)
	t.Cleanup(func() { strata(t, dir, "db", "stop") })
	c, err := pipeline.Local(dir, "", os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	must(t, 0, dir, "db", "start")
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dataDir := st[0].DataDir

	b := start(context.Background(), dir, "build", "--threads", "1", "--vars", "sleep: 600")
	// Sleeping (wait_event PgSleep), not only in a statement's text: a
	// statement with the model's SQL in it ran before its build's
	// transaction once (make test), and stopping the server then failed
	// the model on its first statement, the lock, not on the sleep.
	until(t, "a_slow sleeps on the server", func() bool {
		return queryInt(t, c.URL(), "select count(*) from pg_stat_activity where query like '%pg_sleep(600)%' and wait_event = 'PgSleep' and pid <> pg_backend_pid()") > 0
	})
	must(t, 0, dir, "db", "stop")
	until(t, "every process of the stopped server has ended", func() bool { return len(serverProcesses(t, dataDir)) == 0 })
	if code := b.wait(t); code != ExitFailed {
		t.Fatalf("build exited %d:\n%s", code, b.out.String())
	}
	out := b.out.String()
	t.Logf("the build printed:\n%s", out)
	if n := strings.Count(out, "the PostgreSQL server went away (crash or restart)"); n != 1 {
		t.Errorf("the server's going away is said %d times:\n%s", n, out)
	}
	mustContain(t, out, "the run stopped; 6 nodes were skipped. Start it again with `strata db start`, then run `strata retry`",
		"models/a_slow.sql: terminating connection due to administrator command [SQLSTATE 57P01] (the connection was lost: the server went away)", "skipped: the server went away", "skipped because model.sg.a_slow failed", "ERROR=1 SKIP=6")
	if strings.Contains(out, "START table model public.b") {
		t.Errorf("nodes started after the server went away:\n%s", out)
	}

	must(t, 0, dir, "db", "start")
	out = must(t, 0, dir, "retry", "--vars", "sleep: 0")
	mustContain(t, out, "Running 7 nodes", "PASS=7")

	out = must(t, 0, dir, "db", "destroy")
	root := filepath.Dir(dataDir)
	mustContain(t, out, "Removed "+root+"\n", "is stopped and removed, with its data")
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("%s after db destroy: %v", root, err)
	}
	if code, out := strata(t, dir, "db", "status"); code != ExitStopped || !strings.Contains(out, "not created yet") {
		t.Errorf("db status after destroy: %d %s", code, out)
	}
	mustContain(t, must(t, 0, dir, "db", "destroy"), "Nothing to remove: this project has no local PostgreSQL")

	// clean --all: target/ and the cluster, created again.
	must(t, 0, dir, "db", "start")
	out = must(t, 0, dir, "clean", "--all")
	mustContain(t, out, "Removed target/", "Removed "+root+"\n")
	for _, p := range []string{filepath.Join(dir, "target"), root} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s after clean --all: %v", p, err)
		}
	}

	// A target that is not local has no cluster of strata's to destroy.
	writeFiles(t, dir, map[string]string{"project.yaml": "name: sg\ntarget: p\ntargets:\n  p: {type: postgres, url: 'postgres://nowhere/x'}\n"})
	if code, out := strata(t, dir, "db", "destroy"); code != ExitBadInput || !strings.Contains(out, "target p is type postgres, not local") {
		t.Errorf("db destroy of a postgres target: %d %s", code, out)
	}
}
