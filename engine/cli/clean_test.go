package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCleanOnlyInAProject(t *testing.T) {
	// A folder that is not a strata project keeps its target/.
	notProject := t.TempDir()
	if err := os.MkdirAll(filepath.Join(notProject, "target", "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out := strata(t, notProject, "clean")
	want := "project.yaml: cannot read project.yaml: no such file or directory (is this a strata project? use --project-dir)"
	if code != ExitBadInput || !strings.Contains(out, want) {
		t.Errorf("clean outside a project: exit %d, output:\n%s\nwant exit %d and %q", code, out, ExitBadInput, want)
	}
	if _, err := os.Stat(filepath.Join(notProject, "target", "keep")); err != nil {
		t.Errorf("clean outside a project removed target/: %v", err)
	}

	// In a project, even one with problems, target/ goes; a second clean
	// says there was nothing to remove.
	dir := writeProject(t, "", map[string]string{"project.yaml": "name: pj\nnot_a_key: [\n"})
	if err := os.MkdirAll(filepath.Join(dir, "target", "compiled"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out := strata(t, dir, "clean"); code != ExitOK || strings.TrimSpace(out) != "Removed target/" {
		t.Errorf("clean: exit %d, output %q; want 0 and Removed target/", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "target")); !os.IsNotExist(err) {
		t.Errorf("target/ still there after clean: %v", err)
	}
	if code, out := strata(t, dir, "clean"); code != ExitOK || strings.TrimSpace(out) != "Nothing to remove: there is no target/" {
		t.Errorf("second clean: exit %d, output %q; want 0 and Nothing to remove", code, out)
	}
}
