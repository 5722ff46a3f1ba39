package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestDBStatusExitCodes: db status exits 0 when the local PostgreSQL runs
// and 3 when it is stopped or not created yet, as pg_ctl status does, so
// that a script can test it.
func TestDBStatusExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL; skipped under -short")
	}
	// The server account must be able to enter the project (as root,
	// t.TempDir and its parent are closed to it).
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
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
	must(t, ExitOK, dir, "db", "start")
	status(ExitOK, "running (pid ")
	if out := must(t, ExitOK, dir, "db", "url"); !strings.HasPrefix(out, "postgres") {
		t.Errorf("db url printed %q", out)
	}
	// strata's flags after psql are strata's, the rest psql's.
	if out := must(t, ExitOK, dir, "db", "psql", "--no-color", "-Atc", "select 40 + 2"); out != "42\n" {
		t.Errorf("db psql --no-color -Atc printed %q", out)
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
