package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	must(t, ExitOK, dir, "db", "stop")
	status(ExitStopped, "stopped\ndata:")
}
