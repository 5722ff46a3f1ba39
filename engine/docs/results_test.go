package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/cli"
	"strata/engine/docs"
	"strata/engine/internal/pgtest"
)

// lastRun returns the status and the "by" line of a node page's Last run section.
func lastRun(t *testing.T, site, id string) (status, by string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(site, "nodes", id+".html"))
	if err != nil {
		t.Fatal(err)
	}
	sec := string(b)
	i := strings.Index(sec, `<section id="last-run">`)
	if i < 0 {
		t.Fatalf("%s: no last-run section", id)
	}
	sec = sec[i:]
	sec = sec[:strings.Index(sec, "</section>")]
	if strings.Contains(sec, "Not run") {
		return "not run", ""
	}
	m := regexp.MustCompile(`<span class="status [a-z]+">([a-z ]+)</span>`).FindStringSubmatch(sec)
	f := regexp.MustCompile(`<td class="from">([^<]*)</td>`).FindStringSubmatch(sec)
	if m == nil || f == nil {
		t.Fatalf("%s: cannot read the last run from:\n%s", id, sec)
	}
	return m[1], f[1]
}

// The site shows each node's latest result, whichever command produced it:
// after a build, a `run -s b` that fails leaves a as the build left it.
func TestSiteKeepsEachNodesLatestResult(t *testing.T) {
	man := &artifacts.Manifest{Project: "p", Nodes: map[string]*artifacts.Node{
		"model.p.a":    {ID: "model.p.a", ResourceType: "model", Name: "a"},
		"model.p.b":    {ID: "model.p.b", ResourceType: "model", Name: "b"},
		"model.p.new":  {ID: "model.p.new", ResourceType: "model", Name: "new"},
		"test.p.a_has": {ID: "test.p.a_has", ResourceType: "test", Name: "a_has", Test: &artifacts.TestMeta{Kind: "not_null", Attached: "model.p.a"}},
	}}
	build := &artifacts.RunResults{Command: "build", StartedAt: "2025-01-02T03:00:00Z", Results: []artifacts.Result{
		{ID: "model.p.a", Status: "success"}, {ID: "model.p.b", Status: "success"}, {ID: "test.p.a_has", Status: "pass"},
	}}
	run := &artifacts.RunResults{Command: "run", StartedAt: "2025-01-02T04:00:00Z", Results: []artifacts.Result{
		{ID: "model.p.b", Status: "error", Message: "division by zero"},
	}}
	history := &artifacts.NodeResults{}
	history.Merge(build, nil)
	history.Merge(run, nil)
	site := t.TempDir()
	if _, err := docs.Generate(site, &docs.Input{Manifest: man, Results: run, History: history, Offline: "test"}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][2]string{
		"model.p.a":   {"success", "strata build at 2025-01-02 03:00:00 UTC"},
		"model.p.b":   {"error", "strata run at 2025-01-02 04:00:00 UTC"},
		"model.p.new": {"not run", ""},
	} {
		if st, by := lastRun(t, site, id); st != want[0] || by != want[1] {
			t.Errorf("%s: last run %q by %q, want %q by %q", id, st, by, want[0], want[1])
		}
	}
	page, _ := os.ReadFile(filepath.Join(site, "nodes", "model.p.a.html"))
	if !regexp.MustCompile(`<tr data-test="test.p.a_has">.*<span class="status ok">pass</span>`).Match(page) {
		t.Error("a's test does not show its pass from the build")
	}
	graph, _ := os.ReadFile(filepath.Join(site, "assets", "graph.js"))
	for _, s := range []string{`\["model.p.a","model","a","[a-z]+","success"`, `\["model.p.b","model","b","[a-z]+","error"`} {
		if !regexp.MustCompile(s).Match(graph) {
			t.Errorf("graph.js lacks %s", s)
		}
	}
}

// The same through the commands, on PostgreSQL: build, break b, run -s b,
// then docs generate.
func TestDocsAfterAFailingPartialRun(t *testing.T) {
	url := pgtest.DB(t)
	dir := t.TempDir()
	files := map[string]string{
		"project.yaml":      "name: p\ntarget: test\ntargets:\n  test: {type: postgres, url: '" + url + "', threads: 2}\n",
		"models/a.sql":      "select 1 as x",
		"models/b.sql":      `select x from {{ ref "a" }}`,
		"models/c.sql":      `select x from {{ ref "a" }}`,
		"models/models.yml": "models:\n  - name: a\n    columns:\n      - {name: x, tests: [not_null]}\n",
	}
	for name, text := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	strata(t, "--project-dir", dir, "build")
	if err := os.WriteFile(filepath.Join(dir, "models/b.sql"), []byte(`select no_such_column from {{ ref "a" }}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if code := cli.Main(t.Context(), []string{"--project-dir", dir, "run", "-s", "b"}, &out, &out); code != cli.ExitFailed {
		t.Fatalf("run -s b: exit %d, want %d:\n%s", code, cli.ExitFailed, out.String())
	}
	strata(t, "--project-dir", dir, "docs", "generate", "--offline")
	site := filepath.Join(dir, "target", "docs")
	for id, want := range map[string]string{"model.p.a": "success", "model.p.b": "error", "model.p.c": "success"} {
		if st, _ := lastRun(t, site, id); st != want {
			t.Errorf("%s: the site says %q, want %q", id, st, want)
		}
	}
}
