package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestSocketDirFor(t *testing.T) {
	short := "/home/ana/shop/.strata/postgres"
	if got, want := socketDirFor(short), short+"/run"; got != want {
		t.Errorf("socketDirFor(%q) = %q, want %q", short, got, want)
	}
	// The longest root whose socket path still fits: root + "/run/.s.PGSQL.5432".
	fits := "/" + strings.Repeat("a", maxSocketPath-len("/run/"+socketName)-1)
	if got := socketDirFor(fits); got != fits+"/run" {
		t.Errorf("socketDirFor(%d-byte root) = %q, want it under the root", len(fits), got)
	}
	long := fits + "b"
	got := socketDirFor(long)
	if !strings.HasPrefix(got, "/tmp/strata-s-") {
		t.Fatalf("socketDirFor(%d-byte root) = %q, want a directory under /tmp", len(long), got)
	}
	if got != socketDirFor(long) || got == socketDirFor(long+"c") {
		t.Errorf("socketDirFor must be stable per root and differ between roots")
	}
	if n := len(got) + 1 + len(socketName); n > maxSocketPath {
		t.Errorf("fallback socket path is %d bytes, over %d", n, maxSocketPath)
	}
}

func TestFallbackRoot(t *testing.T) {
	a, b := fallbackRoot("/root/a"), fallbackRoot("/root/b")
	if !strings.HasPrefix(a, "/var/tmp/strata-") || a == b || a != fallbackRoot("/root/a") {
		t.Errorf("fallbackRoot: got %q and %q", a, b)
	}
}

func TestURLFor(t *testing.T) {
	// A client setting that would refuse the cluster's primary is overridden.
	t.Setenv("PGTARGETSESSIONATTRS", "standby")
	c := &Cluster{socketDir: "/tmp/my dir/run"}
	tests := []struct{ db, url string }{
		{"postgres", "postgres://postgres@/postgres?host=/tmp/my%20dir/run&port=5432&target_session_attrs=any"},
		{"shop dev", "postgres://postgres@/shop%20dev?host=/tmp/my%20dir/run&port=5432&target_session_attrs=any"},
		{"ünï", "postgres://postgres@/%C3%BCn%C3%AF?host=/tmp/my%20dir/run&port=5432&target_session_attrs=any"},
	}
	for _, tt := range tests {
		got := c.URLFor(tt.db)
		if got != tt.url {
			t.Errorf("URLFor(%q) = %q, want %q", tt.db, got, tt.url)
		}
		cfg, err := pgconn.ParseConfig(got)
		if err != nil {
			t.Fatalf("pgx cannot parse %q: %v", got, err)
		}
		// pgconn checks a connection's session only for attributes other than any.
		if cfg.ValidateConnect != nil {
			t.Errorf("pgx would check the session attributes of %q (PGTARGETSESSIONATTRS leaked)", got)
		}
		if cfg.Host != c.socketDir || cfg.Port != 5432 || cfg.Database != tt.db || cfg.User != "postgres" {
			t.Errorf("pgx parsed %q as host=%q port=%d db=%q user=%q", got, cfg.Host, cfg.Port, cfg.Database, cfg.User)
		}
	}
}

func TestQuoteConf(t *testing.T) {
	if got, want := quoteConf("/tmp/it's"), `'/tmp/it''s'`; got != want {
		t.Errorf("quoteConf = %s, want %s", got, want)
	}
}

func TestServerEnv(t *testing.T) {
	env := []string{"PATH=/bin", "PGDATA=/x", "PGPORT=1", "HOME=/root", "LANG=C"}
	got := serverEnv(env, &account{name: "postgres", home: "/var/lib/postgresql"})
	want := []string{"HOME=/var/lib/postgresql", "LANG=C", "LOGNAME=postgres", "PATH=/bin", "USER=postgres"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("serverEnv = %q, want %q", got, want)
	}
	got = serverEnv(env, nil)
	want = []string{"HOME=/root", "LANG=C", "PATH=/bin"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("serverEnv(nil account) = %q, want %q", got, want)
	}
}

func TestCheckEnterable(t *testing.T) {
	dir := t.TempDir()
	closed := filepath.Join(dir, "closed")
	inner := filepath.Join(closed, "inner")
	if err := os.MkdirAll(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	stranger := &account{name: "stranger", uid: 54321, gid: 54321}
	if err := checkEnterable(dir, stranger); err != nil {
		t.Errorf("open dir: %v", err)
	}
	err := checkEnterable(filepath.Join(inner, "not-yet"), stranger)
	if err == nil || !strings.Contains(err.Error(), "stranger account cannot enter "+closed+" ") {
		t.Errorf("closed dir: got %v, want it to name %s", err, closed)
	}
	// Group members may enter a 0710 directory.
	if err := os.Chmod(closed, 0o710); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(closed)
	member := &account{name: "member", uid: 54321, gid: 54321, groups: []uint32{uint32(gidOf(st))}}
	if err := checkEnterable(inner, member); err != nil {
		t.Errorf("group member: %v", err)
	}
	if err := checkEnterable(inner, nil); err != nil {
		t.Errorf("current user: %v", err)
	}
}

func gidOf(st os.FileInfo) int {
	return int(st.Sys().(*syscall.Stat_t).Gid)
}

// fakeBinDir makes dir/<names...> as executables.
func fakeBinDir(t *testing.T, dir string, names ...string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindBinDir(t *testing.T) {
	tmp := t.TempDir()
	all := []string{"initdb", "pg_ctl", "postgres"}
	glob := filepath.Join(tmp, "lib")
	fakeBinDir(t, filepath.Join(glob, "9.6", "bin"), all...)
	v15 := fakeBinDir(t, filepath.Join(glob, "15", "bin"), all...)
	fakeBinDir(t, filepath.Join(glob, "16", "bin"), "initdb") // incomplete
	fakeBinDir(t, filepath.Join(glob, "devel", "bin"), all...)
	env := fakeBinDir(t, filepath.Join(tmp, "env"), all...)
	onPath := fakeBinDir(t, filepath.Join(tmp, "real"), all...)
	linkDir := fakeBinDir(t, filepath.Join(tmp, "links"))
	if err := os.Symlink(filepath.Join(onPath, "initdb"), filepath.Join(linkDir, "initdb")); err != nil {
		t.Fatal(err)
	}
	config := fakeBinDir(t, filepath.Join(tmp, "config"), all...)
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	noConfig := func() (string, error) { return "", errors.New("no pg_config") }

	tests := []struct {
		name    string
		f       binDirFinder
		want    string
		wantErr string
	}{
		{"env wins", binDirFinder{
			getenv:   func(string) string { return env },
			lookPath: func(string) (string, error) { return filepath.Join(linkDir, "initdb"), nil },
			pgConfig: noConfig, globRoot: glob,
		}, env, ""},
		{"env incomplete", binDirFinder{
			getenv:   func(string) string { return linkDir },
			lookPath: notFound, pgConfig: noConfig, globRoot: glob,
		}, "", "STRATA_PG_BINDIR=" + linkDir + ": pg_ctl not found there (it must hold initdb, pg_ctl and postgres)"},
		{"PATH symlink resolved", binDirFinder{
			getenv:   func(string) string { return "" },
			lookPath: func(string) (string, error) { return filepath.Join(linkDir, "initdb"), nil },
			pgConfig: noConfig, globRoot: glob,
		}, onPath, ""},
		{"pg_config", binDirFinder{
			getenv: func(string) string { return "" }, lookPath: notFound,
			pgConfig: func() (string, error) { return config, nil }, globRoot: glob,
		}, config, ""},
		{"newest complete version", binDirFinder{
			getenv: func(string) string { return "" }, lookPath: notFound,
			pgConfig: noConfig, globRoot: glob,
		}, v15, ""},
		{"nothing", binDirFinder{
			getenv: func(string) string { return "" }, lookPath: notFound,
			pgConfig: noConfig, globRoot: filepath.Join(tmp, "none"),
		}, "", "no PostgreSQL server binaries found in PATH, pg_config --bindir or " + filepath.Join(tmp, "none", "*", "bin") +
			": install the PostgreSQL server (e.g. `apt-get install postgresql`), set STRATA_PG_BINDIR to its bin directory, or use a target of `type: postgres` with a url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f.find()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				if !strings.HasPrefix(tt.wantErr, "STRATA") && !errors.Is(err, ErrNoBinaries) {
					t.Errorf("error does not wrap ErrNoBinaries")
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("find() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var b strings.Builder
	for i := 0; i < 30; i++ {
		b.WriteString("line\n")
	}
	b.WriteString("FATAL:  bad\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	got := logTail(path, 2)
	if got != "  line\n  FATAL:  bad" {
		t.Errorf("logTail = %q", got)
	}
	if logTail(filepath.Join(t.TempDir(), "missing"), 5) != "" {
		t.Errorf("logTail of a missing file should be empty")
	}
}

func TestServesDataDir(t *testing.T) {
	data := t.TempDir()
	other := t.TempDir()
	const alive, zombie = "42 (postgres) S 1 42 42 0", "42 (postgres) Z 1 42 42 0"
	cmdline := func(dir string) string { return "/usr/lib/postgresql/15/bin/postgres\x00-D\x00" + dir + "\x00" }
	tests := []struct {
		name                string
		comm, stat, cmdline string
		cwd                 string // symlink target; "" for none (unreadable)
		want                bool
	}{
		{"own server", "postgres\n", alive, cmdline(data), data, true},
		{"another cluster's server", "postgres\n", alive, cmdline(other), other, false},
		{"not postgres", "bash\n", "42 (bash) S 1", "bash\x00", data, false},
		{"zombie", "postgres\n", zombie, "", "", false},
		{"cwd unreadable, -D says own", "postgres\n", alive, cmdline(data), "", true},
		{"cwd unreadable, -D says other", "postgres\n", alive, cmdline(other), "", false},
		{"cwd unreadable, -Dvalue form", "postgres\n", alive, "postgres\x00-D" + data + "\x00", "", true},
		{"cwd unreadable, no -D: cannot tell, so taken as ours", "postgres\n", alive, "postgres\x00", "", true},
		{"comm with parentheses", "postgres\n", "42 (a) Z (b) S 1", cmdline(data), data, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc := t.TempDir()
			dir := filepath.Join(proc, "42")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, content := range map[string]string{"comm": tt.comm, "stat": tt.stat, "cmdline": tt.cmdline} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.cwd != "" {
				if err := os.Symlink(tt.cwd, filepath.Join(dir, "cwd")); err != nil {
					t.Fatal(err)
				}
			}
			if got := servesDataDir(proc, 42, data); got != tt.want {
				t.Errorf("servesDataDir = %v, want %v", got, tt.want)
			}
		})
	}
	// Without procfs the signal check is all there is.
	if !servesDataDir(filepath.Join(t.TempDir(), "none"), 42, data) {
		t.Errorf("servesDataDir without procfs = false, want true")
	}
}

func TestWaitReadyServerGone(t *testing.T) {
	// No server: no postmaster.pid, nothing listening on the socket.
	root := t.TempDir()
	c := &Cluster{root: root, socketDir: filepath.Join(root, "run")}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.waitReady(ctx)
	if !errors.Is(err, errNotRunning) {
		t.Fatalf("waitReady = %v, want %v", err, errNotRunning)
	}
	if want := "the server is not running (it may have been killed); run `strata db start`"; err.Error() != want {
		t.Errorf("waitReady = %q, want %q", err, want)
	}
}
