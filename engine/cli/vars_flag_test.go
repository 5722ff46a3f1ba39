package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVarsGivenTwice: a second --vars replaced the first, whose vars were
// then silently not set (compile --vars 'n: 1' --vars 'm: 2' rendered n
// as project.yaml has it). It is refused now, before anything runs.
func TestVarsGivenTwice(t *testing.T) {
	// A target no server answers: a command that ran would fail (exit 1).
	dir := writeProject(t, "postgres://nobody@127.0.0.1:1/x?sslmode=disable", map[string]string{
		"project.yaml": "name: vt\nvars: {n: 3, m: 0}\n",
		"models/a.sql": "select {{ var \"n\" }} as n, {{ var \"m\" }} as m\n",
	})
	compiled := func() string {
		b, err := os.ReadFile(filepath.Join(dir, "target", "compiled", "models", "a.sql"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	must(t, ExitOK, dir, "compile", "--vars", "{n: 1, m: 2}")
	if got := compiled(); got != "select 1 as n, 2 as m" {
		t.Errorf("compile --vars '{n: 1, m: 2}' rendered %q", got)
	}
	for _, cmd := range [][]string{{"compile"}, {"validate"}, {"ls"}, {"build"}, {"debug"}, {"docs", "generate", "--offline"}} {
		args := append(cmd, "--vars", "n: 1", "--vars=m: 2")
		code, out := strata(t, dir, args...)
		if code != ExitBadInput || !strings.Contains(out, `"--vars" flag: it is given twice (first "n: 1"): give every var in one mapping`) {
			t.Errorf("strata %s: exit %d, want %d:\n%s", strings.Join(args, " "), code, ExitBadInput, out)
		}
	}
	if got := compiled(); got != "select 1 as n, 2 as m" {
		t.Errorf("a refused compile wrote %q", got)
	}
}
