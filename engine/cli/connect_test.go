package cli

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/internal/pgtest"
)

// TestConnectionErrorsNameTheTarget: every command that connects says
// which target it could not reach, once: build, run, seed, test and
// retry said only "strata build: cannot connect to ...", while plan,
// check and env said "target prod:". And the target's password is never
// printed nor written, whether the connection fails (its url's settings
// wrong, nothing listening) or succeeds (target/: manifest.json,
// run_results.json, strata.log).
func TestConnectionErrorsNameTheTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens there
	const password = "s3cretPW-d0-not-print"
	t.Setenv("PROD_URL", "postgres://etl:"+password+"@"+closed+"/shop")
	dir := writeProject(t, "", map[string]string{
		"project.yaml": "name: p\ntarget: prod\ntargets:\n  prod:\n    type: postgres\n    url: '{{ env_var \"PROD_URL\" }}'\n",
		"models/a.sql": "select 1 as id",
		"models/a.yml": "models:\n  - name: a\n    columns:\n      - name: id\n        tests: [not_null]\n",
		"seeds/s.csv":  "id\n1\n",
	})
	for _, args := range [][]string{{"build"}, {"run"}, {"seed"}, {"test"}, {"plan"}, {"check"}, {"env", "ls"}, {"debug"}} {
		code, out := strata(t, dir, args...)
		if code == 0 {
			t.Fatalf("strata %s connected to a port nothing listens on:\n%s", args[0], out)
		}
		if strings.Contains(out, password) {
			t.Errorf("strata %s printed the password:\n%s", args[0], out)
		}
		if args[0] == "debug" {
			continue // it says the target on a line of its own
		}
		want := "target prod: cannot connect to database \"shop\" as \"etl\" on " + closed + ": nothing listens on " + closed
		if strings.Count(out, "target prod: ") != 1 || !strings.Contains(out, want) {
			t.Errorf("strata %s said:\n%s\nwant it to say once: %s", strings.Join(args, " "), out, want)
		}
	}
	t.Setenv("PROD_URL", "postgres://etl:"+password+"@"+closed+"/shop?sslmode=bogus")
	if code, out := strata(t, dir, "build"); code == 0 || strings.Contains(out, password) || !strings.Contains(out, "target prod: bad connection settings") {
		t.Errorf("a url pgx cannot read: exit %d\n%s", code, out)
	}

	// A run that connects (the test's server trusts the socket, so the
	// password is sent to no one, but it is in the url).
	url := strings.Replace(pgtest.DB(t), "postgres://postgres@", "postgres://postgres:"+password+"@", 1)
	t.Setenv("PROD_URL", url)
	must(t, 0, dir, "build")
	must(t, 0, dir, "debug")
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), password) {
			t.Errorf("%s holds the password", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPGEnvironmentReachesAPostgresTarget: a postgres target with nothing
// but its type connects where PostgreSQL's variables say (PGHOST, PGPORT,
// PGUSER, PGDATABASE), or a service of the service file (PGSERVICEFILE,
// PGSERVICE), as docs/project.md says. PGAPPNAME does not rename strata's
// sessions: they are "strata", which is how strata tells its own.
func TestPGEnvironmentReachesAPostgresTarget(t *testing.T) {
	url := pgtest.DB(t)
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE", "PGSERVICEFILE", "PGAPPNAME", "PGTARGETSESSIONATTRS"} {
		t.Setenv(k, "")
	}
	dir := writeProject(t, "", map[string]string{
		"project.yaml": "name: p\ntargets:\n  ci:\n    type: postgres\n",
		"models/a.sql": "{{ config \"materialized\" \"table\" }}\nselect 1 as id from pg_sleep(0.5)",
	})
	t.Setenv("PGHOST", cfg.Host)
	t.Setenv("PGPORT", strconv.Itoa(int(cfg.Port)))
	t.Setenv("PGUSER", cfg.User)
	t.Setenv("PGDATABASE", cfg.Database)
	t.Setenv("PGAPPNAME", "nightly")
	watcher, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(context.Background())
	names := make(chan string, 1)
	go func() {
		// The name the build's sessions have while it runs.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			var n string
			err := watcher.QueryRow(context.Background(), "select coalesce(string_agg(distinct application_name, ','), '') from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query like '%pg_sleep%'").Scan(&n)
			if err != nil || n != "" {
				names <- fmt.Sprint(n, err)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		names <- "none seen"
	}()
	must(t, 0, dir, "build")
	if n := <-names; n != "strata<nil>" {
		t.Errorf("with PGAPPNAME=nightly, the build's sessions are named %q, want strata", n)
	}
	if got := queryText(t, url, "select count(*) from pg_tables where tablename = 'a'"); got != "1" {
		t.Errorf("the table was not built where PG* said: %s", got)
	}

	for _, k := range []string{"PGHOST", "PGPORT", "PGUSER", "PGDATABASE"} {
		t.Setenv(k, "")
	}
	services := filepath.Join(t.TempDir(), "pg_service.conf")
	if err := os.WriteFile(services, []byte(fmt.Sprintf("[shop]\nhost=%s\nport=%d\nuser=%s\ndbname=%s\n", cfg.Host, cfg.Port, cfg.User, cfg.Database)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGSERVICEFILE", services)
	t.Setenv("PGSERVICE", "shop")
	must(t, 0, dir, "run")
}
