package docs_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Without Chromium, the browser tests install it; when that fails they are
// given the installer's reason, to skip with (or, in CI, to fail with).
func TestFindChromium(t *testing.T) {
	missing := errors.New(`exec: "chromium": executable file not found in $PATH`)
	notRoot := "install-chromium: Chromium is missing and only root can install it (sudo apt-get install chromium); until then the docs site's browser tests will be skipped\n"
	cases := []struct {
		name       string
		installed  bool // before
		install    func() (string, error)
		afterwards bool // found after installing
		wantPath   string
		wantWhy    string
		installs   int
	}{
		{"installed", true, nil, true, "/usr/bin/chromium", "", 0},
		{"installed by the script", false, func() (string, error) {
			return "install-chromium: Chromium is missing: installing Debian's chromium with apt-get\n", nil
		}, true, "/usr/bin/chromium", "", 1},
		{"not root", false, func() (string, error) { return notRoot, errors.New("exit status 1") }, false, "",
			"Chromium is not installed and could not be installed: " + strings.TrimSpace(notRoot), 1},
		{"the installer says nothing", false, func() (string, error) { return "", errors.New("exit status 100") }, false, "",
			"Chromium is not installed and could not be installed: exit status 100", 1},
		{"installed but not on PATH", false, func() (string, error) { return "", nil }, false, "",
			"Chromium is still missing after scripts/install-chromium.sh succeeded: " + missing.Error(), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			installed, installs := c.installed, 0
			lookup := func() (string, error) {
				if installed {
					return "/usr/bin/chromium", nil
				}
				return "", missing
			}
			install := func() (string, error) {
				installs++
				out, err := c.install()
				installed = c.afterwards
				return out, err
			}
			path, why := findChromium(lookup, install)
			if path != c.wantPath || why != c.wantWhy || installs != c.installs {
				t.Errorf("got path %q, why %q after %d installs\nwant path %q, why %q after %d", path, why, installs, c.wantPath, c.wantWhy, c.installs)
			}
		})
	}
}

// CI=true means the browser tests must run: a missing Chromium fails them.
func TestInCI(t *testing.T) {
	for value, want := range map[string]bool{"": false, "false": false, "0": false, "true": true, "1": true, "yes": true} {
		t.Setenv("CI", value)
		if got := inCI(); got != want {
			t.Errorf("CI=%q: inCI() = %t, want %t", value, got, want)
		}
	}
}

// The browser tests on a machine without Chromium that cannot install it (no
// apt-get here): skipped with the installer's reason, or failed when CI is
// set. The test binary runs itself with a PATH that holds only the tools
// scripts/install-chromium.sh uses.
func TestBrowserTestsWithoutChromium(t *testing.T) {
	bin := t.TempDir()
	for _, tool := range []string{"bash", "id", "mktemp", "grep", "tail", "rm"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		ci   string
		want string
	}{
		{"", "--- SKIP: TestSiteInChromium"},
		{"true", "--- FAIL: TestSiteInChromium"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestSiteInChromium$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "PATH="+bin, "CI="+c.ci)
		out, err := cmd.CombinedOutput()
		text := string(out)
		if !strings.Contains(text, c.want) || !strings.Contains(text, "has no apt-get") {
			t.Errorf("CI=%q: want %q with the installer's reason:\n%s", c.ci, c.want, text)
		}
		if failed := err != nil; failed != (c.ci != "") {
			t.Errorf("CI=%q: the test binary's error: %v", c.ci, err)
		}
	}
}
