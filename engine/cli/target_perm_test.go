package cli

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestTargetIsPrivate (issue 21 item 10): target/ is its owner's alone,
// since compiled SQL holds rendered env_var values: the folder and its
// folders 0700, its files 0600, and a target/ made readable by an older
// strata is closed again.
func TestTargetIsPrivate(t *testing.T) {
	t.Setenv("SHOP_SECRET", "s3cret")
	dir := writeProject(t, "", map[string]string{
		"project.yaml": "name: priv\n",
		"models/m.sql": `select '{{ env_var "SHOP_SECRET" }}' as secret`,
	})
	if err := os.MkdirAll(filepath.Join(dir, "target"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "target"), 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, 0, dir, "compile")
	files := 0
	err := filepath.WalkDir(filepath.Join(dir, "target"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 {
		t.Errorf("compile wrote %d files", files)
	}
}

// TestUnwritableLogIsSaid: a run whose target/strata.log cannot be opened
// (it belongs to another user, as after a run by hand as root before the
// timer's runs as etl; here a folder in its place, which root cannot open
// either) goes on, but says on stderr that its lines are not appended
// there: before, the log a scheduled run is read from afterwards silently
// ended at the last run that could write it.
func TestUnwritableLogIsSaid(t *testing.T) {
	for _, tc := range []struct {
		name     string
		database bool
		files    map[string]string
		args     []string
	}{
		{name: "nothing to do", files: map[string]string{"project.yaml": "name: nolog\n"}, args: []string{"build"}},
		{name: "a build", database: true, files: map[string]string{
			"project.yaml": "name: nolog\nmodels: {'.': {schema: nolog}}\n",
			"models/m.sql": "select 1 as id",
		}, args: []string{"build"}},
		{name: "a seed", database: true, files: map[string]string{
			"project.yaml": "name: nolog\nseeds: {schema: nolog}\n",
			"seeds/s.csv":  "id\n1\n",
		}, args: []string{"seed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := ""
			if tc.database {
				url = pgtest.DB(t)
			}
			dir := writeProject(t, url, tc.files)
			if err := os.MkdirAll(filepath.Join(dir, "target", "strata.log"), 0o700); err != nil {
				t.Fatal(err)
			}
			out := must(t, 0, dir, tc.args...)
			want := "strata " + tc.args[0] + ": warning: this run is not appended to target/strata.log: open " + filepath.Join(dir, "target", "strata.log") + ": is a directory; its lines are on stdout only"
			if !strings.Contains(out, want) {
				t.Errorf("strata %s with target/strata.log not writable: no %q\n%s", tc.args[0], want, out)
			}
			if tc.database && !strings.Contains(out, "PASS=1 ") {
				t.Errorf("strata %s did not go on with its run\n%s", tc.args[0], out)
			}
		})
	}
}

// TestUnwrittenSQLFilesAreSaid: a run whose files of target/compiled/ or
// target/run/ cannot be written (a folder of another user's in their
// place, after a run by hand as root before the timer's runs as etl; here
// a file where a folder goes, which root cannot get past either) goes on,
// but says so once: before, the files an earlier run left there went on
// showing its SQL without a word, the SQL error messages point at.
func TestUnwrittenSQLFilesAreSaid(t *testing.T) {
	dir := writeProject(t, pgtest.DB(t), map[string]string{
		"project.yaml":        "name: unwritten\nmodels: {'.': {schema: unwritten}}\n",
		"models/marts/m.sql":  "select 1 as id",
		"models/marts/m2.sql": "select 2 as id",
	})
	compiled := filepath.Join(dir, "target", "compiled", "models")
	if err := os.MkdirAll(filepath.Dir(compiled), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(compiled, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out := must(t, 0, dir, "build")
	want := "strata build: warning: 2 files of target/compiled/ and target/run/ were not written, so they show an earlier run's SQL, or none: mkdir " + compiled + ": not a directory\n"
	if !strings.Contains(out, want) || !strings.Contains(out, "PASS=2 ") {
		t.Errorf("strata build with target/compiled/models a file: no %q, or not PASS=2\n%s", want, out)
	}
	// target/run/ was written.
	if _, err := os.Stat(filepath.Join(dir, "target", "run", "models", "marts", "m2.sql")); err != nil {
		t.Error(err)
	}
}

// TestTargetOfAnotherUserIsSaid: target/ is kept to its owner alone, which
// only its owner can do, so a run by another user (the timer's runs as etl
// after a run by hand as root) cannot use it. It said "strata: cannot
// create target/: chmod ...: operation not permitted" of a folder that is
// there; it now says whose it is, whose the run is, and the chown that
// fixes it. A file where target/ goes still cannot be created. A
// target/strata.log of another user's, in a target/ of the one who runs
// strata, said only "permission denied": the run goes on, unlogged, and
// now says whose the log is and the chown that fixes it.
func TestTargetOfAnotherUserIsSaid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		user  bool // run strata as nobody (uid 65534), target/ being root's
		code  int
		want  string
	}{
		{name: "a file in its place", setup: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "target"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, code: ExitFailed, want: "strata build: cannot create target/: mkdir DIR/target: not a directory; nothing was run"},
		{name: "another user's", user: true, setup: func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "target"), 0o700); err != nil {
				t.Fatal(err)
			}
		}, code: ExitFailed, want: "strata build: cannot use target/ (DIR/target): it belongs to root (uid 0), not to USER, who runs strata; strata keeps target/ to its owner alone (its compiled SQL holds the values of env_var): chown -R NAME DIR/target, or run strata as root; nothing was run"},
		{name: "another user's strata.log", user: true, setup: func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "target"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "target", "strata.log"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(filepath.Join(dir, "target"), 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, code: 0, want: "strata build: warning: this run is not appended to target/strata.log: it belongs to root (uid 0), not to USER, who runs strata: chown -R NAME DIR/target, or run strata as root; its lines are on stdout only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeProject(t, "", map[string]string{"project.yaml": "name: owned\n"})
			tc.setup(t, dir)
			want := strings.ReplaceAll(tc.want, "DIR", dir)
			var code int
			var out string
			if !tc.user {
				code, out = strata(t, dir, "build")
			} else {
				if os.Geteuid() != 0 {
					t.Skip("needs root, to give target/ to root and run strata as another user")
				}
				if testing.Short() {
					t.Skip("builds strata")
				}
				bin := buildStrata(t)
				// The run as nobody has to reach the project and the binary.
				for _, d := range []string{dir, filepath.Dir(dir), filepath.Dir(bin), filepath.Dir(filepath.Dir(bin))} {
					if err := os.Chmod(d, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				cmd := exec.Command(bin, "--project-dir", dir, "--no-color", "build")
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
				b, err := cmd.CombinedOutput()
				out = string(b)
				code = cmd.ProcessState.ExitCode()
				if err != nil && code < 0 {
					t.Fatal(err)
				}
				want = strings.ReplaceAll(want, "USER", userName(65534))
				want = strings.ReplaceAll(want, "NAME", userArg(65534))
			}
			if code != tc.code || !strings.Contains(out, want) {
				t.Errorf("strata build: exit %d, want %d and\n%s\ngot:\n%s", code, tc.code, want, out)
			}
		})
	}
}
