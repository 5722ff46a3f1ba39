package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/pgtest"
	"strata/engine/local"
)

// needsServer skips a test that starts PostgreSQL servers under -short
// (make test-short); a full run never skips them.
func needsServer(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts PostgreSQL; skipped under -short")
	}
}

// startCluster starts c and stops it when the test ends (before its
// directories are removed).
func startCluster(t *testing.T, c *local.Cluster) {
	t.Helper()
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
}

func selectOne(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "select 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("select 1: %d, %v", n, err)
	}
}

func TestStartStopStatus(t *testing.T) {
	needsServer(t)
	ctx := context.Background()
	root := filepath.Join(pgtest.ReachableDir(t), "pg")
	c, err := local.NewAt(root)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx)
	if err != nil || st.Initialized || st.Running {
		t.Fatalf("status before start = %+v, %v; want neither initialized nor running", st, err)
	}
	if st.DataDir != filepath.Join(root, "data") || st.SocketDir != filepath.Join(root, "run") {
		t.Errorf("status dirs = %q, %q", st.DataDir, st.SocketDir)
	}
	if err := c.Stop(ctx); err != nil {
		t.Errorf("stop before the cluster exists: %v", err)
	}

	startCluster(t, c)
	st, err = c.Status(ctx)
	if err != nil || !st.Initialized || !st.Running || st.PID <= 0 {
		t.Fatalf("status after start = %+v, %v", st, err)
	}
	selectOne(t, c.URL())

	// Starting a running cluster changes nothing.
	if err := c.Start(ctx); err != nil {
		t.Fatalf("second start: %v", err)
	}
	if st2, _ := c.Status(ctx); st2.PID != st.PID {
		t.Errorf("second start replaced the server: pid %d -> %d", st.PID, st2.PID)
	}

	// The speed settings are in force.
	conn, err := pgx.Connect(ctx, c.URLFor("template1"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"wal_level": "minimal", "synchronous_commit": "off", "listen_addresses": "",
		"shared_buffers": "256MB", "server_encoding": "UTF8", "lc_collate": "C",
	} {
		var got string
		if err := conn.QueryRow(ctx, "select current_setting($1)", name).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	conn.Close(ctx)

	if err := c.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	st, err = c.Status(ctx)
	if err != nil || !st.Initialized || st.Running {
		t.Fatalf("status after stop = %+v, %v", st, err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Errorf("stop a stopped cluster: %v", err)
	}

	// A new Cluster value for the same root restarts the existing cluster.
	c2, err := local.NewAt(root)
	if err != nil {
		t.Fatal(err)
	}
	startCluster(t, c2)
	selectOne(t, c2.URL())
}

func TestConcurrentStart(t *testing.T) {
	needsServer(t)
	root := filepath.Join(pgtest.ReachableDir(t), "pg")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	clusters := make([]*local.Cluster, len(errs))
	for i := range clusters {
		c, err := local.NewAt(root)
		if err != nil {
			t.Fatal(err)
		}
		clusters[i] = c
	}
	t.Cleanup(func() { clusters[0].Stop(context.Background()) })
	for i, c := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Start(context.Background())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("start %d: %v", i, err)
		}
	}
	selectOne(t, clusters[1].URL())
}

func TestLongPathUsesShortSocketDir(t *testing.T) {
	needsServer(t)
	root := filepath.Join(pgtest.ReachableDir(t), strings.Repeat("long-directory-name-", 6), "pg")
	c, err := local.NewAt(root)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := c.Status(context.Background())
	if !strings.HasPrefix(st.SocketDir, "/tmp/strata-s-") {
		t.Fatalf("socket dir = %q, want a short one under /tmp", st.SocketDir)
	}
	t.Cleanup(func() { os.RemoveAll(st.SocketDir) })
	startCluster(t, c)
	selectOne(t, c.URL())
}

func TestStartFailureShowsServerLog(t *testing.T) {
	needsServer(t)
	c, err := local.NewAt(filepath.Join(pgtest.ReachableDir(t), "pg"), local.WithSetting("shared_buffers", "lots"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = c.Start(ctx)
	if err == nil {
		c.Stop(ctx)
		t.Fatal("start with a bad setting succeeded")
	}
	for _, want := range []string{"local postgres: pg_ctl start failed", "last lines of", `parameter "shared_buffers"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

func TestProjectCluster(t *testing.T) {
	needsServer(t)
	ctx := context.Background()
	project := t.TempDir()
	c, err := local.New(project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if strings.HasPrefix(c.Root(), "/var/tmp/") {
			os.RemoveAll(c.Root())
		}
	})
	// As root, t.TempDir is 0700 and so closed to the server account.
	if os.Geteuid() == 0 {
		if !strings.HasPrefix(c.Root(), "/var/tmp/strata-") {
			t.Fatalf("root = %q, want the fallback under /var/tmp", c.Root())
		}
	} else if c.Root() != filepath.Join(project, ".strata", "postgres") {
		t.Fatalf("root = %q, want .strata/postgres in the project", c.Root())
	}
	startCluster(t, c)
	selectOne(t, c.URL())

	// Later commands find the same cluster, even once the project became
	// reachable.
	if err := os.Chmod(project, 0o755); err != nil {
		t.Fatal(err)
	}
	c2, err := local.New(project)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Root() != c.Root() || c2.URL() != c.URL() {
		t.Errorf("second New: root %q url %q, want %q %q", c2.Root(), c2.URL(), c.Root(), c.URL())
	}
	st, err := c2.Status(ctx)
	if err != nil || !st.Running {
		t.Errorf("status via a second New = %+v, %v", st, err)
	}
	if os.Geteuid() == 0 {
		b, err := os.ReadFile(filepath.Join(project, ".strata", "postgres-location"))
		if want := c.Root() + "\n" + project + "\n"; err != nil || string(b) != want {
			t.Errorf(".strata/postgres-location = %q, %v; want %q", b, err, want)
		}
	}
}

func TestReachableProjectStaysInProject(t *testing.T) {
	needsServer(t)
	project := pgtest.ReachableDir(t)
	c, err := local.New(project)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(project, ".strata", "postgres"); c.Root() != want {
		t.Fatalf("root = %q, want %q", c.Root(), want)
	}
	startCluster(t, c)
	selectOne(t, c.URL())
}

func TestUnreachableRootSaysWhy(t *testing.T) {
	needsServer(t)
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another account")
	}
	closed := t.TempDir() // 0700, owned by root
	c, err := local.NewAt(filepath.Join(closed, "pg"))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start(context.Background())
	if err == nil {
		c.Stop(context.Background())
		t.Fatal("start succeeded in a directory the postgres account cannot enter")
	}
	if want := "postgres account cannot enter " + filepath.Dir(closed) + " "; !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v\nwant it to contain %q", err, want)
	}
}

// stoppedCluster is a cluster that was created, started and stopped, as a
// project's is between runs.
func stoppedCluster(t *testing.T) *local.Cluster {
	t.Helper()
	c, err := local.NewAt(filepath.Join(pgtest.ReachableDir(t), "pg"))
	if err != nil {
		t.Fatal(err)
	}
	startCluster(t, c)
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStartAfterCrashWithForeignPID(t *testing.T) {
	needsServer(t)
	ctx := context.Background()
	c := stoppedCluster(t)
	// As after a reboot: postmaster.pid names a live process that is not
	// PostgreSQL (this test binary).
	st, _ := c.Status(ctx)
	pidFile := filepath.Join(st.DataDir, "postmaster.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"+st.DataDir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Status(ctx); st.Running {
		t.Fatalf("status with a foreign pid says running: %+v", st)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatalf("start after a crash: %v", err)
	}
	selectOne(t, c.URL())
}

// waitGone waits until pid has exited: it is a zombie or no longer exists.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	stat := "/proc/" + strconv.Itoa(pid) + "/stat"
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(stat)
		if err != nil {
			return
		}
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && strings.HasPrefix(string(b[i:]), ") Z") {
			return
		}
	}
	t.Fatalf("pid %d did not exit after kill -9", pid)
}

func TestStalePIDOfAnotherCluster(t *testing.T) {
	needsServer(t)
	ctx := context.Background()
	a, err := local.NewAt(filepath.Join(pgtest.ReachableDir(t), "pg"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := local.NewAt(filepath.Join(pgtest.ReachableDir(t), "pg"))
	if err != nil {
		t.Fatal(err)
	}
	startCluster(t, a)
	startCluster(t, b)
	if err := b.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	stA, _ := a.Status(ctx)
	stB, _ := b.Status(ctx)
	// As after a crash of b: its postmaster.pid names a pid that now belongs
	// to the server of another project.
	pidFile := filepath.Join(stB.DataDir, "postmaster.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(stA.PID)+"\n"+stB.DataDir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.Status(ctx); st.Running {
		t.Fatalf("status names the other cluster's server as running: %+v", st)
	}
	if err := b.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if st, _ := a.Status(ctx); !st.Running || st.PID != stA.PID {
		t.Fatalf("stopping one cluster stopped the other: %+v", st)
	}
	selectOne(t, a.URL())
	startCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := b.Start(startCtx); err != nil {
		t.Fatalf("start: %v", err)
	}
	selectOne(t, b.URL())
	if st, _ := b.Status(ctx); !st.Running || st.PID == stA.PID {
		t.Errorf("status after start = %+v, want its own server (not pid %d)", st, stA.PID)
	}
}

func TestStartAfterKill9(t *testing.T) {
	needsServer(t)
	ctx := context.Background()
	c, err := local.NewAt(filepath.Join(pgtest.ReachableDir(t), "pg"))
	if err != nil {
		t.Fatal(err)
	}
	startCluster(t, c)
	st, _ := c.Status(ctx)
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, st.PID)
	if st, _ := c.Status(ctx); st.Running {
		t.Errorf("status after kill -9 says running: %+v", st)
	}
	startCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := c.Start(startCtx); err != nil {
		t.Fatalf("start after kill -9: %v", err)
	}
	selectOne(t, c.URL())
}

func TestStartWithEmptyPIDFile(t *testing.T) {
	needsServer(t)
	ctx := context.Background()
	c := stoppedCluster(t)
	st, _ := c.Status(ctx)
	for _, content := range []string{"", "garbage\n"} {
		if err := os.WriteFile(filepath.Join(st.DataDir, "postmaster.pid"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctx); err != nil {
			t.Fatalf("start with postmaster.pid %q: %v", content, err)
		}
		selectOne(t, c.URL())
		if err := c.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCopiedProjectGetsItsOwnCluster(t *testing.T) {
	original, cp := t.TempDir(), t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(cp, link); err != nil {
		t.Fatal(err)
	}
	theirs := "/var/tmp/strata-original0000"
	tests := []struct {
		name, record string
		shares       bool
	}{
		{"record of the original", theirs + "\n" + original + "\n", false},
		{"record of this project", theirs + "\n" + cp + "\n", true},
		{"record of this project through a symlink", theirs + "\n" + link + "\n", true},
		{"record of a folder that is gone: the project moved", theirs + "\n" + filepath.Join(original, "gone") + "\n", true},
		{"old record without a path", theirs + "\n", true},
		{"old record with CRLF", theirs + "\r\n", true},
	}
	// Where the copy's cluster lives when it has no record at all.
	fresh, err := local.New(cp)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.MkdirAll(filepath.Join(cp, ".strata"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(cp, ".strata", "postgres-location"), []byte(tt.record), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := local.New(cp)
			if err != nil {
				t.Fatal(err)
			}
			want := fresh.Root()
			if tt.shares {
				want = theirs
			}
			if c.Root() != want {
				t.Errorf("root = %q, want %q", c.Root(), want)
			}
		})
	}
}
