package docs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/docs"
)

// A model whose new version failed its audit in the last run says on its
// page that the previous version was kept, and when; one that built does
// not.
func TestPageSaysPreviousVersionKept(t *testing.T) {
	nodes := map[string]*artifacts.Node{
		"model.p.kept":  {ID: "model.p.kept", ResourceType: "model", Name: "kept"},
		"model.p.built": {ID: "model.p.built", ResourceType: "model", Name: "built"},
	}
	in := &docs.Input{
		Manifest: &artifacts.Manifest{Nodes: nodes},
		Results: &artifacts.RunResults{Command: "build", Results: []artifacts.Result{
			{ID: "model.p.kept", Status: "error", AdapterResp: artifacts.AuditFailed, Message: "AUDIT FAILED: 1 of 1 tests failed", StartedAt: "2025-01-02T03:04:05.5Z"},
			{ID: "model.p.built", Status: "success", AdapterResp: "SELECT 3", StartedAt: "2025-01-02T03:04:05Z"},
		}},
		Offline: "test",
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	page := func(id string) string {
		b, err := os.ReadFile(filepath.Join(dir, "nodes", id+".html"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if p := page("model.p.kept"); !strings.Contains(p, "kept previous version: audit failed at 2025-01-02 03:04:05 UTC") {
		t.Errorf("the page of a model whose audit failed does not say so")
	}
	if p := page("model.p.built"); strings.Contains(p, "kept previous version") {
		t.Errorf("the page of a model that built says its previous version was kept")
	}
}

// A chart of a model that its last run failed, failed the audit of, or
// skipped says so above the chart, which reads the version before; a chart
// of a model that built says nothing.
func TestChartSaysItsModelDidNotBuild(t *testing.T) {
	nodes := map[string]*artifacts.Node{}
	var results []artifacts.Result
	var charts []*docs.Chart
	var ids []string
	one := "1"
	for _, m := range []struct{ name, status, resp string }{
		{"built", "success", "SELECT 3"},
		{"broken", "error", ""},
		{"audited", "error", artifacts.AuditFailed},
		{"skipped", "skipped", ""},
	} {
		id := "model.p." + m.name
		nodes[id] = &artifacts.Node{ID: id, ResourceType: "model", Name: m.name}
		results = append(results, artifacts.Result{ID: id, Status: m.status, AdapterResp: m.resp, StartedAt: "2025-01-02T03:04:05Z"})
		charts = append(charts, &docs.Chart{Title: "chart of " + m.name, Type: "kpi", Model: m.name, Value: "n",
			Data: &docs.Table{Columns: []string{"n"}, Rows: [][]*string{{&one}}}})
		ids = append(ids, id)
	}
	in := &docs.Input{
		Manifest:   &artifacts.Manifest{Nodes: nodes},
		Results:    &artifacts.RunResults{Command: "build", Results: results},
		Dashboards: []*docs.Dashboard{{ID: "exposure.p.d", Name: "d", Type: "dashboard", DependsOn: ids, Charts: charts}},
		Offline:    "test",
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "dashboards", "d.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	figure := func(name string) string {
		i := strings.Index(page, `data-model="`+name+`"`)
		if i < 0 {
			t.Fatalf("no chart of %s:\n%s", name, page)
		}
		j := strings.Index(page[i:], "</figure>")
		return page[i : i+j]
	}
	for name, want := range map[string]string{
		"broken":  "the last build of broken failed at 2025-01-02 03:04:05 UTC: this chart shows the version before it",
		"audited": "audited failed its audit at 2025-01-02 03:04:05 UTC: this chart shows the version before it",
		"skipped": "skipped was skipped by its last run at 2025-01-02 03:04:05 UTC",
	} {
		if f := figure(name); !strings.Contains(f, want) {
			t.Errorf("the chart of %s does not say %q:\n%s", name, want, f)
		}
	}
	if f := figure("built"); strings.Contains(f, "stale") {
		t.Errorf("the chart of a model that built has a note:\n%s", f)
	}
}
