package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStateModified pins what makes a model modified against an earlier
// manifest: its SQL, its config, a macro it uses, a var or env_var it reads.
// Nothing else counts.
func TestStateModified(t *testing.T) {
	base := map[string]string{
		"project.yaml":      "name: p\nvars: {region: eu, unused: 1}\n",
		"macros/m.sql":      `{{ define "cents" }}round({{ . }} * 100){{ end }}{{ define "spare" }}1{{ end }}`,
		"models/a.sql":      "select 1 as id",
		"models/b.sql":      `select * from {{ ref "a" }}`,
		"models/c.sql":      `select {{ include "cents" "id" }} as x from {{ ref "a" }}`,
		"models/d.sql":      `select {{ var "region" | literal }} as region`,
		"models/e.sql":      `select {{ env_var "STRATA_STATE_TEST" "none" | literal }} as x`,
		"models/schema.yml": "models:\n  - name: a\n    description: first\n  - name: b\n    config: {materialized: view}\n",
	}
	tests := []struct {
		name   string
		change map[string]string
		vars   string
		env    string
		want   string
	}{
		{name: "nothing changed", want: ""},
		{name: "SQL", change: map[string]string{"models/a.sql": "select 2 as id"}, want: "a"},
		{name: "YAML config", change: map[string]string{"models/schema.yml": "models:\n  - name: a\n    description: first\n  - name: b\n    config: {materialized: table}\n"}, want: "b"},
		{name: "folder config", change: map[string]string{"project.yaml": "name: p\nvars: {region: eu, unused: 1}\nmodels:\n  .: {schema: x}\n"}, want: "a b c d e"},
		{name: "SQL config", change: map[string]string{"models/d.sql": `{{ config "alias" "dd" }}select {{ var "region" | literal }} as region`}, want: "d"},
		{name: "a macro it uses", change: map[string]string{"macros/m.sql": `{{ define "cents" }}round({{ . }} * 1000){{ end }}{{ define "spare" }}1{{ end }}`}, want: "c"},
		{name: "a var it reads", vars: "region: us", want: "d"},
		{name: "an env_var it reads", env: "set", want: "e"},
		{name: "description only", change: map[string]string{"models/schema.yml": "models:\n  - name: a\n    description: changed\n  - name: b\n    config: {materialized: view}\n"}, want: ""},
		{name: "a macro nobody uses", change: map[string]string{"macros/m.sql": `{{ define "cents" }}round({{ . }} * 100){{ end }}{{ define "spare" }}2{{ end }}`}, want: ""},
		{name: "a var nobody reads", vars: "unused: 2", want: ""},
		{name: "a parent changed (use state:modified+ for children)", change: map[string]string{"models/a.sql": "select 3 as id"}, want: "a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("STRATA_TARGET", "")
			os.Unsetenv("STRATA_STATE_TEST")
			dir, state := compiledState(t, base)
			writeFiles(t, dir, tc.change)
			if tc.env != "" {
				t.Setenv("STRATA_STATE_TEST", tc.env)
			}
			args := []string{"--project-dir", dir, "ls", "-s", "state:modified", "--state", state, "--resource-type", "model"}
			if tc.vars != "" {
				args = append(args, "--vars", tc.vars)
			}
			out, _ := runCLI(t, args...)
			if got := strings.Join(strings.Fields(out), " "); got != tc.want {
				t.Errorf("state:modified = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestResultSelector: result:<status> reads the earlier run_results.json.
func TestResultSelector(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	dir, state := t.TempDir(), t.TempDir()
	writeFiles(t, dir, map[string]string{"project.yaml": "name: p\n", "models/a.sql": "select 1", "models/b.sql": `select * from {{ ref "a" }}`})
	runCLI(t, "--project-dir", dir, "compile")
	b, _ := os.ReadFile(filepath.Join(dir, "target", "manifest.json"))
	writeFiles(t, state, map[string]string{"manifest.json": string(b),
		"run_results.json": `{"results": [{"unique_id": "model.p.a", "status": "success"}, {"unique_id": "model.p.b", "status": "error"}]}`})
	for sel, want := range map[string]string{"result:error": "b", "result:success": "a", "result:error+": "b", "+result:error": "a b"} {
		out, _ := runCLI(t, "--project-dir", dir, "ls", "-s", sel, "--state", state)
		if got := strings.Join(strings.Fields(out), " "); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
}

// TestResultSelectorWithoutRunResults: result: with nothing to read the
// earlier run's results from is a command-line error, not a selection of
// nothing that a scheduled "build -s result:error+" takes for a run
// without failures: a --state folder without run_results.json (or one
// that cannot be read), and state: compared with production's records in
// the target, which hold no run's results.
func TestResultSelectorWithoutRunResults(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{"project.yaml": "name: p\n", "models/a.sql": "select 1 as id", "models/b.sql": `select * from {{ ref "a" }}`})
	must(t, 0, dir, "build")
	b, err := os.ReadFile(filepath.Join(dir, "target", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	noResults, badResults := t.TempDir(), t.TempDir()
	writeFiles(t, noResults, map[string]string{"manifest.json": string(b)})
	writeFiles(t, badResults, map[string]string{"manifest.json": string(b), "run_results.json": "{"})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--state without run_results.json", []string{"ls", "-s", "result:error", "--state", noResults},
			"--select result:error: result:error needs the run_results.json of an earlier run in --state " + noResults + ", and it cannot be read: no such file or directory"},
		{"--state with a broken run_results.json", []string{"build", "-s", "result:error+", "--state", badResults},
			"unexpected end of JSON input"},
		{"state: against the target's records", []string{"build", "-s", "result:error state:modified"},
			"--select result:error: result:error needs --state DIR"},
		{"excluded", []string{"build", "-s", "state:modified", "--exclude", "result:error"},
			"--exclude result:error: result:error needs --state DIR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := strataOut(t, dir, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) || strings.Contains(out, "Running") {
				t.Errorf("strata %s: exit %d, stdout %q, stderr %q; want exit 2 saying %q", strings.Join(tc.args, " "), code, out, errOut, tc.want)
			}
		})
	}
	// With the run's results there, the same selection reads them.
	writeFiles(t, noResults, map[string]string{"run_results.json": `{"results": [{"unique_id": "model.p.b", "status": "error"}]}`})
	if out := must(t, 0, dir, "ls", "-s", "result:error", "--state", noResults); strings.TrimSpace(out) != "b" {
		t.Errorf("result:error with run_results.json = %q, want b", out)
	}
}

// compiledState writes the project files into a new folder and compiles it,
// and keeps that manifest in a second folder, as a --state for later
// selections after the test changes the project.
func compiledState(t *testing.T, files map[string]string) (dir, state string) {
	t.Helper()
	dir, state = t.TempDir(), t.TempDir()
	writeFiles(t, dir, files)
	runCLI(t, "--project-dir", dir, "compile")
	b, err := os.ReadFile(filepath.Join(dir, "target", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, state, map[string]string{"manifest.json": string(b)})
	return dir, state
}

// TestStateModifiedSeedsAndTests: a changed CSV makes its seed modified, and
// a changed macro makes the tests that use it modified (a custom generic
// test's test_<name> and what it includes, a singular test's includes).
func TestStateModifiedSeedsAndTests(t *testing.T) {
	base := map[string]string{
		"project.yaml": "name: p\n",
		"seeds/s.csv":  "id\n1\n",
		"macros/m.sql": `{{ define "test_small" }}select * from {{ .relation }} where {{ include "too_big" .column }}{{ end }}` +
			`{{ define "too_big" }}{{ ident . }} > 10{{ end }}{{ define "spare" }}1{{ end }}`,
		"models/a.sql":      "select 1 as id",
		"models/schema.yml": "models:\n  - name: a\n    columns:\n      - name: id\n        tests: [small, not_null]\n",
		"tests/big.sql":     `select * from {{ ref "a" }} where {{ include "too_big" "id" }}`,
	}
	tests := []struct {
		name   string
		change map[string]string
		want   string
	}{
		{name: "nothing changed", want: ""},
		{name: "the seed's CSV", change: map[string]string{"seeds/s.csv": "id\n1\n2\n"}, want: "s"},
		{name: "a macro the tests include", change: map[string]string{"macros/m.sql": strings.Replace(base["macros/m.sql"], "> 10", "> 20", 1)}, want: "big small_a_id"},
		{name: "a generic test's own macro", change: map[string]string{"macros/m.sql": strings.Replace(base["macros/m.sql"], "select *", "select id", 1)}, want: "small_a_id"},
		{name: "a macro nobody uses", change: map[string]string{"macros/m.sql": strings.Replace(base["macros/m.sql"], "}}1{{", "}}2{{", 1)}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("STRATA_TARGET", "")
			dir, state := compiledState(t, base)
			writeFiles(t, dir, tc.change)
			out, _ := runCLI(t, "--project-dir", dir, "ls", "-s", "state:modified", "--state", state)
			if got := strings.Join(strings.Fields(out), " "); got != tc.want {
				t.Errorf("state:modified = %q, want %q", got, tc.want)
			}
		})
	}
}
