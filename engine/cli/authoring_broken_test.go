package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden tests (testdata/broken/*/expected, testdata/golden/)")

// TestBrokenProjects runs every project under testdata/broken through the CLI
// and compares stderr with the case's `expected` file exactly. A case runs
// `strata validate` unless it has an `args` file (one line of arguments, split
// on spaces; single quotes group). Every case must exit 2, print no Go stack
// trace and report where the problem is.
func TestBrokenProjects(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	os.Unsetenv("STRATA_TARGET")
	dirs, err := filepath.Glob(filepath.Join("testdata", "broken", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 30 {
		t.Fatalf("the corpus has %d cases, want at least 30", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			args := []string{"validate"}
			if b, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
				args = splitArgs(strings.TrimSpace(string(b)))
			}
			args = append([]string{"--project-dir", dir}, args...)
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), args, &stdout, &stderr)
			got := stderr.String()
			for _, bad := range []string{"goroutine ", "panic", "internal error", ".go:"} {
				if strings.Contains(got, bad) {
					t.Errorf("stderr holds %q:\n%s", bad, got)
				}
			}
			if code != ExitBadInput {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, ExitBadInput, got)
			}
			golden := filepath.Join(dir, "expected")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./engine/cli -run TestBrokenProjects -update)", err)
			}
			if got != string(want) {
				t.Errorf("stderr differs from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// splitArgs splits a command line on spaces; single quotes group.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	inQuote, any := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			inQuote, any = !inQuote, true
		case r == ' ' && !inQuote:
			if any {
				out = append(out, cur.String())
				cur.Reset()
				any = false
			}
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}
