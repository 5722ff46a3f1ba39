package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"strata/engine/internal/pgtest"
)

// TestDBStatusExitCodes: db status exits 0 when the local PostgreSQL runs
// and 3 when it is stopped or not created yet, as pg_ctl status does, so
// that a script can test it.
func TestDBStatusExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL; skipped under -short")
	}
	dir := pgtest.ReachableDir(t)
	writeFiles(t, dir, map[string]string{"project.yaml": "name: dbs\n"})
	t.Cleanup(func() { strata(t, dir, "db", "stop") })

	status := func(want int, says string) {
		t.Helper()
		code, out := strata(t, dir, "db", "status")
		if code != want || !strings.HasPrefix(out, says) {
			t.Errorf("db status: exit %d, %q; want exit %d, %q", code, out, want, says)
		}
	}
	status(ExitStopped, "not created yet")
	// psql's help is strata's line, then psql's, and creates no server.
	for _, help := range []string{"--help", "-?", "--version", "--help=variables", "--help=commands"} {
		out := must(t, ExitOK, dir, "db", "psql", help)
		if !strings.HasPrefix(out, "strata db psql [--target NAME] [psql arguments]:") || !strings.Contains(out, "psql") {
			t.Errorf("db psql %s printed %q", help, out)
		}
	}
	status(ExitStopped, "not created yet")
	must(t, ExitOK, dir, "db", "start")
	status(ExitOK, "running (pid ")
	if out := must(t, ExitOK, dir, "db", "url"); !strings.HasPrefix(out, "postgres") {
		t.Errorf("db url printed %q", out)
	}
	// strata's flags after psql are strata's, the rest psql's.
	if out := must(t, ExitOK, dir, "db", "psql", "--no-color", "-Atc", "select 40 + 2"); out != "42\n" {
		t.Errorf("db psql --no-color -Atc printed %q", out)
	}
	// A database given to psql keeps the local server's socket, port and
	// user: -d used to replace the whole connection string strata passed.
	must(t, ExitOK, dir, "db", "psql", "-qc", "create database shop")
	for _, args := range [][]string{{"-d", "shop"}, {"--dbname=shop"}, {"--dbname", "shop"}, {"-dshop"}, {"shop"}, {"-d", "dbname=shop"}} {
		args = append([]string{"db", "psql", "-X", "-Atc", "select current_database() || ' ' || current_user"}, args...)
		if out := must(t, ExitOK, dir, args...); out != "shop postgres\n" {
			t.Errorf("strata %s printed %q, want \"shop postgres\"", strings.Join(args, " "), out)
		}
	}
	must(t, ExitOK, dir, "db", "stop")
	status(ExitStopped, "stopped\ndata:")
}

// TestDBFlagsAfterTheSubcommand: the global flags may follow db's
// subcommand, as docs/citus.md writes them (db status --target citus):
// they were taken for arguments and ignored, so db start --target citus
// started the default target's server, and db psql --target citus passed
// --target to psql. An argument that is not a flag is refused.
func TestDBFlagsAfterTheSubcommand(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"project.yaml": "name: dbf\ntarget: dev\ntargets:\n  dev: {type: local}\n  citus: {type: local, citus: {workers: 2}}\n"})
	code, out := strata(t, dir, "db", "status", "--target", "citus")
	if code != ExitStopped || !strings.HasPrefix(out, "Citus cluster (coordinator and 2 workers): not created yet") {
		t.Errorf("db status --target citus: exit %d, %q; want the Citus cluster's status, exit %d", code, out, ExitStopped)
	}
	for _, args := range [][]string{{"db", "url", "--target", "citus"}, {"db", "url", "--target=citus"}, {"--target", "dev", "db", "url", "--target", "citus"}} {
		if out := must(t, ExitOK, dir, args...); !strings.Contains(out, "citus") || !strings.Contains(out, "/coordinator/run") {
			t.Errorf("strata %s printed %q, not the coordinator's URL", strings.Join(args, " "), out)
		}
	}
	out = must(t, ExitBadInput, dir, "db", "start", "citus")
	mustContain(t, out, `strata db start: unexpected argument "citus"`)

	for _, c := range []struct {
		args []string
		want int
	}{
		{nil, 0},
		{[]string{"-c", "select 1"}, 0},
		{[]string{"--target", "citus", "-c", "select 1"}, 2},
		{[]string{"--target=citus", "--no-color", "-h", "host"}, 2},
		{[]string{"--project-dir", "x", "--", "--target", "citus"}, 3},
		{[]string{"--dbname", "x"}, 0},
		{[]string{"--target"}, 1},
	} {
		if got := leadingFlags(newFlagsForTest(), c.args); got != c.want {
			t.Errorf("leadingFlags(%q) = %d, want %d", c.args, got, c.want)
		}
	}
}

func newFlagsForTest() *pflag.FlagSet {
	a := &app{stderr: io.Discard}
	return a.newBareFlags("db").fs
}

// TestDBRefusesATargetThatIsNotLocal: db's subcommands act on a local
// target's cluster only. They took a postgres target for the default
// local one: db psql --target prod opened psql on the development server,
// db start --target prod started it. A target that is not defined is a
// command-line error (exit 2, it was 1), and clean --all with one removes
// nothing (it removed target/ first).
func TestDBRefusesATargetThatIsNotLocal(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"project.yaml":     "name: dbn\ntarget: dev\ntargets:\n  dev: {type: local}\n  prod: {type: postgres, url: 'postgres://nobody@127.0.0.1:1/x'}\n",
		"target/keep.json": "{}",
	})
	for _, sub := range []string{"start", "stop", "status", "url", "psql", "destroy"} {
		for _, args := range [][]string{{"db", sub, "--target", "prod"}, {"--target", "prod", "db", sub}} {
			code, out := strata(t, dir, args...)
			if code != ExitBadInput || !strings.Contains(out, "strata db "+sub+": target prod is type postgres, not local") {
				t.Errorf("strata %s: exit %d, want %d and why:\n%s", strings.Join(args, " "), code, ExitBadInput, out)
			}
		}
		t.Setenv("STRATA_TARGET", "prod")
		if code, out := strata(t, dir, "db", sub); code != ExitBadInput {
			t.Errorf("STRATA_TARGET=prod strata db %s: exit %d, want %d:\n%s", sub, code, ExitBadInput, out)
		}
		t.Setenv("STRATA_TARGET", "")
		code, out := strata(t, dir, "db", sub, "--target", "nope")
		if code != ExitBadInput || !strings.Contains(out, `target "nope" is not defined in project.yaml`) {
			t.Errorf("strata db %s --target nope: exit %d, want %d:\n%s", sub, code, ExitBadInput, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".strata")); err == nil {
		t.Error("a refused db command made a local cluster")
	}
	code, out := strata(t, dir, "clean", "--all", "--target", "nope")
	if code != ExitBadInput || !strings.Contains(out, "nothing was removed") {
		t.Errorf("clean --all --target nope: exit %d, want %d:\n%s", code, ExitBadInput, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "target", "keep.json")); err != nil {
		t.Errorf("clean --all --target nope removed target/: %v", err)
	}
	mustContain(t, must(t, ExitOK, dir, "clean", "--all", "--target", "prod"), "Removed target/", "Target prod is not local: no local PostgreSQL to remove")
}

// TestDBReachesTheServerOfAProjectWithoutProjectYAML: since db refuses a
// folder without project.yaml (so that db psql inside a project's
// subfolder starts no new server there), a project whose project.yaml was
// deleted while its server ran could no longer stop or remove that server
// with strata. A folder holding a server it made is still reached.
func TestDBReachesTheServerOfAProjectWithoutProjectYAML(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL; skipped under -short")
	}
	dir := pgtest.ReachableDir(t)
	writeFiles(t, dir, map[string]string{"project.yaml": "name: gone\n"})
	t.Cleanup(func() { strata(t, dir, "db", "destroy") })
	must(t, ExitOK, dir, "db", "start")
	if err := os.Remove(filepath.Join(dir, "project.yaml")); err != nil {
		t.Fatal(err)
	}
	if out := must(t, ExitOK, dir, "db", "status"); !strings.HasPrefix(out, "running (pid ") {
		t.Errorf("db status without project.yaml printed %q, want running", out)
	}
	must(t, ExitOK, dir, "db", "stop")
	if code, out := strata(t, dir, "db", "status"); code != ExitStopped || !strings.HasPrefix(out, "stopped") {
		t.Errorf("db status after db stop: exit %d, %q; want %d, stopped", code, out, ExitStopped)
	}
	must(t, ExitOK, dir, "db", "destroy")
	if _, err := os.Stat(filepath.Join(dir, ".strata")); !os.IsNotExist(err) {
		t.Errorf(".strata after db destroy: %v, want it gone", err)
	}
	// Nothing made: refused as before, and nothing created.
	if code, _ := strata(t, dir, "db", "status"); code != ExitBadInput {
		t.Errorf("db status in a folder with neither project.yaml nor a server: exit %d, want %d", code, ExitBadInput)
	}
}

// TestPsqlEnv: db psql's connection replaces the user's variables of the
// same names and drops PGSERVICE, whose settings libpq puts before the
// environment's.
func TestPsqlEnv(t *testing.T) {
	got := psqlEnv(
		[]string{"HOME=/root", "PGHOST=elsewhere", "PGSERVICE=prod", "PGPASSWORD=x", "PGPORT=6432"},
		[]string{"PGHOST=/tmp/s", "PGPORT=5433", "PGUSER=postgres"},
	)
	want := "HOME=/root PGPASSWORD=x PGHOST=/tmp/s PGPORT=5433 PGUSER=postgres"
	if strings.Join(got, " ") != want {
		t.Errorf("psqlEnv = %q, want %q", strings.Join(got, " "), want)
	}
}
