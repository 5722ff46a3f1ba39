package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"strata/engine/adapter/postgres"
	"strata/engine/internal/pgtest"
)

// startPgBouncer runs a PgBouncer in front of the server of dbURL, in
// pool_mode mode, with the extra lines of its [pgbouncer] section, and
// returns the url of the database through it. It listens on a unix
// socket of its own folder only. The test skips, saying why, when the
// pgbouncer program is not installed (.ci/run installs it).
func startPgBouncer(t *testing.T, dbURL, mode, extra string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/pgbouncer"); serr != nil {
			t.Skip("pgbouncer is not installed (apt-get install pgbouncer): the tests of strata through PgBouncer are skipped")
		}
		bin = "/usr/sbin/pgbouncer"
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	dbname := strings.TrimPrefix(u.Path, "/")
	role := u.User.Username()
	dir := pgtest.ReachableDir(t)
	const port = 6432
	ini := fmt.Sprintf(`[databases]
%s = host=%s port=%s
[pgbouncer]
unix_socket_dir = %s
listen_port = %d
auth_type = trust
auth_file = %s
pool_mode = %s
logfile = %s
%s
`, dbname, q.Get("host"), q.Get("port"), dir, port, filepath.Join(dir, "users.txt"), mode, filepath.Join(dir, "pgbouncer.log"), extra)
	if err := os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.txt"), []byte(strconv.Quote(role)+` ""`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	if os.Geteuid() == 0 {
		// PgBouncer refuses to run as root.
		acct, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("pgbouncer does not run as root, and there is no postgres account to run it as: %v", err)
		}
		uid, _ := strconv.Atoi(acct.Uid)
		gid, _ := strconv.Atoi(acct.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	})
	sock := filepath.Join(dir, fmt.Sprintf(".s.PGSQL.%d", port))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Fatalf("pgbouncer did not start: %s", log)
		}
	}
	return fmt.Sprintf("postgres://%s@/%s?%s", role, dbname, url.Values{"host": {dir}, "port": {strconv.Itoa(port)}}.Encode())
}

// TestConnectThroughPgBouncer: through a PgBouncer in session mode,
// strata could not connect at all ("unsupported startup parameter:
// idle_in_transaction_session_timeout"), and where PgBouncer was told to
// ignore its settings, they were silently not set. In transaction mode,
// a build ran and left its run lock on a server session of the pool,
// which held up every later run for 10 minutes (PgBouncer's
// server_idle_timeout): Connect refuses it, saying to use session mode.
func TestConnectThroughPgBouncer(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.DB(t)
	const ignore = "ignore_startup_parameters = client_connection_check_interval, tcp_keepalives_idle, tcp_keepalives_interval, tcp_keepalives_count, idle_session_timeout, idle_in_transaction_session_timeout"
	for _, c := range []struct {
		name, mode, extra, url, refused string
	}{
		{name: "session", mode: "session"},
		{name: "session_settings_ignored", mode: "session", extra: ignore},
		{name: "transaction", mode: "transaction", extra: ignore, refused: "its connections go through a pooler that shares server sessions between transactions (as PgBouncer's pool_mode = transaction or statement does): strata needs a server session of its own for each connection, for its run lock (a session's advisory lock, which a shared session would keep after the run, holding up every later run), its session settings and its temporary tables; connect through a pool in session mode (pool_mode = session), or to the server directly"},
		{name: "transaction_settings_refused", mode: "transaction", refused: "pool_mode = session"},
		{name: "statement", mode: "statement", extra: ignore, refused: "pool_mode = session"},
		// A setting of the url's own that PgBouncer refuses is said so,
		// with what to do.
		{name: "the_url's_setting", mode: "session", url: "&search_path=public", refused: "unsupported startup parameter: search_path (SQLSTATE 08P01): a connection pooler (PgBouncer) between strata and the server takes no search_path when connecting: remove it from the url (or PGOPTIONS), or have the pooler ignore it (ignore_startup_parameters = search_path in its configuration)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			through := startPgBouncer(t, dbURL, c.mode, c.extra)
			db, err := postgres.Connect(ctx, through+c.url, 3)
			if c.refused != "" {
				if err == nil {
					db.Close()
					t.Fatalf("Connect through PgBouncer in %s mode succeeded; want it refused", c.mode)
				}
				if !strings.Contains(err.Error(), c.refused) {
					t.Fatalf("Connect said\n%v\nwant it to say\n%s", err, c.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, rows, err := db.QueryText(ctx, "select string_agg(name || '=' || setting, '; ' order by name) from pg_settings where name in ('client_connection_check_interval', 'idle_session_timeout', 'idle_in_transaction_session_timeout', 'tcp_keepalives_count', 'tcp_keepalives_interval') or name = 'application_name'")
			if err != nil {
				t.Fatal(err)
			}
			// Over PgBouncer's unix socket to the server, the keepalives
			// read 0 (as they do without PgBouncer): the count and the
			// interval are shown as set all the same.
			want := "application_name=strata; client_connection_check_interval=1000; idle_in_transaction_session_timeout=0; idle_session_timeout=0; tcp_keepalives_count=0; tcp_keepalives_interval=0"
			if len(rows) != 1 || rows[0][0] == nil || *rows[0][0] != want {
				got := "no row"
				if len(rows) == 1 && rows[0][0] != nil {
					got = *rows[0][0]
				}
				t.Errorf("strata's session through PgBouncer has\n%s\nwant\n%s", got, want)
			}
			// The run lock holds as on the server itself: a second run,
			// through PgBouncer too, is refused it until the first lets go.
			unlock, err := db.LockRun(ctx, "pgbouncer_project", postgres.RunInfo{}, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			other, err := postgres.Connect(ctx, through, 2)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if _, err := other.LockRun(ctx, "pgbouncer_project", postgres.RunInfo{}, true, nil); !errors.Is(err, postgres.ErrLocked) {
				t.Fatalf("a second run took the run lock the first holds: %v", err)
			}
			unlock()
			unlock2, err := other.LockRun(ctx, "pgbouncer_project", postgres.RunInfo{}, true, nil)
			if err != nil {
				t.Fatalf("the run lock, let go of, could not be taken again: %v", err)
			}
			unlock2()
		})
	}
}
