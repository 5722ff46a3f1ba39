// Package endtoend runs strata's command line on small projects, one folder
// per case, and compares everything the command prints and writes with the
// case's expected/ folder. It needs no database: a command that would connect
// has no place here (engine/cli's tests run those on a real PostgreSQL).
//
// A case is testdata/<group>/<case>/ (see README.md):
//
//	project.yaml, models/, ...  the project, copied to a fresh folder for the run
//	cmd                         strata's arguments after --project-dir (default: compile)
//	env                         optional NAME=value lines: the run's environment
//	expected/exit               the exit code
//	expected/stdout, stderr     what strata printed (absent when nothing)
//	expected/compiled/...       target/compiled/, when the command wrote it
//	expected/manifest.json      an excerpt of target/manifest.json, when written
//
// `go test ./engine/endtoend -update` (or `go test ./... -update`) rewrites
// every expected/ folder from what strata does now; review the diff.
package endtoend

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"strata/engine/artifacts"
	"strata/engine/cli"
)

var update = flag.Bool("update", false, "rewrite each case's expected/ folder from what strata does now")

// TestCases runs every case under testdata/ in parallel.
func TestCases(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			cases = append(cases, d)
		}
	}
	// A glob that finds nothing (a moved folder) must not pass as "no failures".
	if len(cases) < 100 {
		t.Fatalf("found %d cases under testdata/<group>/<case>, want at least 100", len(cases))
	}
	// The environment is the process's: set it once, before the cases run in
	// parallel, from the union of their env files.
	for _, name := range []string{"STRATA_TARGET", "DATABASE_URL"} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	setBy := map[string]string{}
	for _, c := range cases {
		for name, value := range readEnv(t, c) {
			if other, ok := setBy[name]; ok {
				t.Fatalf("%s and %s both set %s: give each case its own variable names", other, c, name)
			}
			setBy[name] = c
			t.Setenv(name, value)
		}
	}
	for _, c := range cases {
		name, _ := filepath.Rel("testdata", c)
		t.Run(filepath.ToSlash(name), func(t *testing.T) {
			t.Parallel()
			runCase(t, c)
		})
	}
}

// runCase runs the case's command on a copy of its project and compares the
// outcome with expected/, or rewrites expected/ under -update.
func runCase(t *testing.T, caseDir string) {
	dir := t.TempDir()
	copyProject(t, caseDir, dir)
	args := []string{"compile"}
	if b, err := os.ReadFile(filepath.Join(caseDir, "cmd")); err == nil {
		args = splitArgs(strings.TrimSpace(string(b)))
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	started := time.Now()
	code := cli.Main(context.Background(), append([]string{"--project-dir", dir}, args...), &stdout, &stderr)
	ended := time.Now()
	// A command that read the default local target (a state: selector
	// does) created and started its cluster, in .strata/ or, as root, in
	// /var/tmp: it would outlive the case's folder and keep running.
	if _, err := os.Stat(filepath.Join(dir, ".strata")); err == nil {
		var out bytes.Buffer
		if code := cli.Main(context.Background(), []string{"--project-dir", dir, "db", "destroy"}, &out, &out); code != 0 {
			t.Errorf("db destroy after the case: exit %d\n%s", code, out.String())
		}
	}

	for _, bad := range []string{"goroutine ", "panic", "internal error", ".go:"} {
		if strings.Contains(stderr.String(), bad) {
			t.Errorf("stderr holds %q:\n%s", bad, stderr.String())
		}
	}
	got := map[string]string{"exit": fmt.Sprintf("%d\n", code)}
	if stdout.Len() > 0 {
		got["stdout"] = stdout.String()
	}
	if stderr.Len() > 0 {
		got["stderr"] = stderr.String()
	}
	for rel, text := range readTree(t, filepath.Join(dir, "target", "compiled")) {
		got["compiled/"+rel] = text
	}
	if m, err := artifacts.ReadManifest(filepath.Join(dir, "target", "manifest.json")); err == nil {
		got["manifest.json"] = manifestExcerpt(t, m)
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for name, text := range got {
		got[name] = scrub(text, dir, started, ended)
	}

	expected := filepath.Join(caseDir, "expected")
	if *update {
		writeTree(t, expected, got)
		return
	}
	want := readTree(t, expected)
	if len(want) == 0 {
		t.Fatalf("%s is empty: run go test ./engine/endtoend -run 'TestCases/%s' -update", expected, filepath.ToSlash(strings.TrimPrefix(caseDir, "testdata"+string(filepath.Separator))))
	}
	var names []string
	for name := range want {
		names = append(names, name)
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		w, inWant := want[name]
		g, inGot := got[name]
		switch {
		case !inGot:
			t.Errorf("%s: strata no longer produces it; it was:\n%s", filepath.Join(expected, name), w)
		case !inWant:
			t.Errorf("%s: strata produces it, but it is not expected (-update adds it):\n%s", filepath.Join(expected, name), g)
		case w != g:
			t.Errorf("%s differs (-want +got):\n%s", filepath.Join(expected, name), lineDiff(w, g))
		}
	}
}

// copyProject copies a case's folder, all but expected/, to dir.
func copyProject(t *testing.T, caseDir, dir string) {
	t.Helper()
	err := filepath.WalkDir(caseDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(caseDir, p)
		if rel == "expected" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readEnv reads a case's env file: NAME=value lines; blank lines and lines
// starting with # are skipped.
func readEnv(t *testing.T, caseDir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(caseDir, "env"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || name == "" {
			t.Fatalf("%s:%d: want NAME=value, got %q", filepath.Join(caseDir, "env"), i+1, line)
		}
		env[name] = value
	}
	return env
}

// scrub replaces what changes from run to run by a stable name: the
// project's temporary folder, and the run's start time as run_started_at
// renders it (any RFC 3339 second between the command's start and end, so a
// time in another zone or format still shows in the diff).
func scrub(text, dir string, started, ended time.Time) string {
	text = strings.ReplaceAll(text, dir, "<project-dir>")
	for ts := started.UTC().Truncate(time.Second); !ts.After(ended); ts = ts.Add(time.Second) {
		text = strings.ReplaceAll(text, ts.Format(time.RFC3339), "<run_started_at>")
	}
	return text
}

// excerptNode is what a case pins of a manifest node: what it is, where it
// is built, its config and its edges. Checksums, paths and code are left out:
// the compiled SQL has its own files, and the rest is pinned elsewhere.
type excerptNode struct {
	ResourceType string              `json:"resource_type"`
	Relation     string              `json:"relation_name,omitempty"`
	Config       json.RawMessage     `json:"config,omitempty"`
	DependsOn    artifacts.DependsOn `json:"depends_on"`
	Tags         []string            `json:"tags,omitempty"`
	Columns      []artifacts.Column  `json:"columns,omitempty"`
	VarsRead     []string            `json:"vars_read,omitempty"`
	EnvVarsRead  []string            `json:"env_vars_read,omitempty"`
	Test         *artifacts.TestMeta `json:"test_metadata,omitempty"`
}

func manifestExcerpt(t *testing.T, m *artifacts.Manifest) string {
	t.Helper()
	excerpt := func(nodes map[string]*artifacts.Node) map[string]excerptNode {
		out := map[string]excerptNode{}
		for id, n := range nodes {
			out[id] = excerptNode{
				ResourceType: n.ResourceType, Relation: n.Relation, Config: n.Config, DependsOn: n.DependsOn,
				Tags: n.Tags, Columns: n.Columns, VarsRead: keys(n.Vars), EnvVarsRead: keys(n.EnvVars), Test: n.Test,
			}
		}
		return out
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // warn_if: ">10" reads as written
	enc.SetIndent("", "  ")
	err := enc.Encode(struct {
		Project   string                 `json:"project"`
		Target    string                 `json:"target"`
		Nodes     map[string]excerptNode `json:"nodes"`
		Sources   map[string]excerptNode `json:"sources,omitempty"`
		Exposures map[string]excerptNode `json:"exposures,omitempty"`
	}{m.Project, m.Target, excerpt(m.Nodes), excerpt(m.Sources), excerpt(m.Exposure)})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// readTree reads every file under dir, keyed by slash-separated relative path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// writeTree replaces dir by the files of tree.
func writeTree(t *testing.T, dir string, tree map[string]string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for rel, text := range tree {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
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
