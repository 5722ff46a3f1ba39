package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFromAFolderInsideTheProject: run from models/analytics, as a
// newcomer does after creating a model there, every command says that the
// folder is inside the project and how to reach it (exit 2), and db does
// nothing: db psql used to start a new, empty PostgreSQL in that folder
// and open psql on it, and db status said "not created yet" while the
// project's server ran. Outside any project, the message is as before.
func TestFromAFolderInsideTheProject(t *testing.T) {
	dir := writeProject(t, "", map[string]string{
		"project.yaml":                "name: pj\n",
		"models/analytics/a.sql":      "select 1 as x\n",
		"models/analytics/schema.yml": "models:\n  - name: a\n",
	})
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "models", "analytics")
	t.Chdir(sub)
	want := "project.yaml: cannot read project.yaml: no such file or directory: " + sub + " is a folder inside the project in " + dir + "; run strata from there, or with --project-dir ../.."
	for _, args := range [][]string{
		{"validate"}, {"build"}, {"ls"}, {"compile"}, {"retry"}, {"clean"}, {"docs", "generate"},
		// db destroy last: without the fix, it removes what db psql and db
		// start created here.
		{"db", "status"}, {"db", "url"}, {"db", "psql", "-c", "select 1"}, {"db", "start"}, {"db", "destroy"},
	} {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), append([]string{"--no-color"}, args...), &out, &errOut)
		if code != ExitBadInput || !strings.Contains(errOut.String(), want) || out.Len() > 0 {
			t.Errorf("strata %s in models/analytics: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(args, " "), code, out.String(), errOut.String(), want)
		}
	}
	if entries, _ := os.ReadDir(sub); len(entries) != 2 {
		t.Errorf("models/analytics holds %d entries after the commands, want its 2 files (no .strata/, no target/)", len(entries))
	}

	// Elsewhere, the project's folder is given whole.
	t.Chdir(t.TempDir())
	var errOut bytes.Buffer
	code := Main(context.Background(), []string{"--project-dir", sub, "validate"}, &bytes.Buffer{}, &errOut)
	if want := "run strata from there, or with --project-dir " + dir + "\n"; code != ExitBadInput || !strings.Contains(errOut.String(), want) {
		t.Errorf("strata --project-dir models/analytics validate from elsewhere: exit %d, %q; want %q", code, errOut.String(), want)
	}
	// Outside any project: as it was.
	errOut.Reset()
	code = Main(context.Background(), []string{"db", "status"}, &bytes.Buffer{}, &errOut)
	if want := "strata db status: project.yaml: cannot read project.yaml: no such file or directory (is this a strata project? use --project-dir)\n"; code != ExitBadInput || errOut.String() != want {
		t.Errorf("strata db status outside a project: exit %d, %q; want %q", code, errOut.String(), want)
	}
}

// TestProjectDirThatIsNoFolder: --project-dir naming a folder that does not
// exist (mistyped) said it was "a folder inside the project" above it, and
// naming a file (project.yaml itself) let db go on to fail on the file's
// path; each says what it is, exit 2, and db does nothing.
func TestProjectDirThatIsNoFolder(t *testing.T) {
	dir := writeProject(t, "", map[string]string{"project.yaml": "name: pj\n", "models/a.sql": "select 1 as x\n"})
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, c := range []struct{ projectDir, want string }{
		{"modles", "project.yaml: cannot read project.yaml: there is no folder " + filepath.Join(dir, "modles") + " (is --project-dir right?)\n"},
		{"models/b", "project.yaml: cannot read project.yaml: there is no folder " + filepath.Join(dir, "models", "b") + " (is --project-dir right?)\n"},
		{"project.yaml", "project.yaml: cannot read project.yaml: " + filepath.Join(dir, "project.yaml") + " is a file, not a folder (--project-dir names the project's folder, which holds project.yaml)\n"},
	} {
		for _, args := range [][]string{{"validate"}, {"db", "status"}, {"db", "start"}, {"clean"}} {
			var out, errOut bytes.Buffer
			code := Main(context.Background(), append([]string{"--no-color", "--project-dir", c.projectDir}, args...), &out, &errOut)
			if code != ExitBadInput || !strings.Contains(errOut.String(), c.want) || out.Len() > 0 {
				t.Errorf("strata --project-dir %s %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.projectDir, strings.Join(args, " "), code, out.String(), errOut.String(), c.want)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".strata")); !os.IsNotExist(err) {
		t.Errorf("db created .strata/ (%v)", err)
	}
}
