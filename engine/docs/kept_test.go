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
// page that the previous version was kept, and when; or, when it did not
// exist before (strata's message says so), that it was not created and
// nothing was kept; one that built says neither.
func TestPageSaysPreviousVersionKept(t *testing.T) {
	cases := []struct {
		name    string
		result  artifacts.Result
		want    string // on the page; "" for no note
		notWant string
	}{
		{"kept", artifacts.Result{Status: "error", AdapterResp: artifacts.AuditFailed, Message: "AUDIT FAILED: 1 of 1 tests failed; the previous version of public.kept was kept"},
			"kept previous version: audit failed at 2025-01-02 03:04:05 UTC", "not created"},
		{"fresh", artifacts.Result{Status: "error", AdapterResp: artifacts.AuditFailed, Message: "AUDIT FAILED: 1 of 2 tests failed: unique_fresh_id (got 1 failing row; e.g. \"2\"); public.fresh " + artifacts.AuditNotCreated},
			"not created: audit failed at 2025-01-02 03:04:05 UTC, and there was no previous version to keep", "kept previous version"},
		{"built", artifacts.Result{Status: "success", AdapterResp: "SELECT 3"}, "", "kept previous version"},
	}
	nodes := map[string]*artifacts.Node{}
	var results []artifacts.Result
	for _, c := range cases {
		id := "model.p." + c.name
		nodes[id] = &artifacts.Node{ID: id, ResourceType: "model", Name: c.name}
		r := c.result
		r.ID, r.StartedAt = id, "2025-01-02T03:04:05.5Z"
		results = append(results, r)
	}
	in := &docs.Input{
		Manifest: &artifacts.Manifest{Nodes: nodes},
		Results:  &artifacts.RunResults{Command: "build", Results: results},
		Offline:  "test",
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		b, err := os.ReadFile(filepath.Join(dir, "nodes", "model.p."+c.name+".html"))
		if err != nil {
			t.Fatal(err)
		}
		p := string(b)
		if c.want != "" && !strings.Contains(p, `<p class="kept">`+c.want+`</p>`) {
			t.Errorf("%s: the page does not say %q", c.name, c.want)
		}
		if c.want == "" && strings.Contains(p, `class="kept"`) {
			t.Errorf("%s: the page has a note on its audit", c.name)
		}
		if strings.Contains(p, c.notWant) {
			t.Errorf("%s: the page says %q", c.name, c.notWant)
		}
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
	for _, m := range []struct{ name, status, resp, msg string }{
		{"built", "success", "SELECT 3", ""},
		{"broken", "error", "", ""},
		{"audited", "error", artifacts.AuditFailed, "AUDIT FAILED: 1 of 1 tests failed; the previous version of public.audited was kept"},
		{"fresh", "error", artifacts.AuditFailed, "AUDIT FAILED: 1 of 1 tests failed; public.fresh " + artifacts.AuditNotCreated},
		{"skipped", "skipped", "", ""},
	} {
		id := "model.p." + m.name
		nodes[id] = &artifacts.Node{ID: id, ResourceType: "model", Name: m.name}
		results = append(results, artifacts.Result{ID: id, Status: m.status, AdapterResp: m.resp, Message: m.msg, StartedAt: "2025-01-02T03:04:05Z"})
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
		"fresh":   "fresh failed its audit at 2025-01-02 03:04:05 UTC and was not created: there was no version before it",
		"skipped": "skipped was skipped by its last run at 2025-01-02 03:04:05 UTC",
	} {
		if f := figure(name); !strings.Contains(f, want) {
			t.Errorf("the chart of %s does not say %q:\n%s", name, want, f)
		}
	}
	if f := figure("fresh"); strings.Contains(f, "this chart shows the version before it") {
		t.Errorf("the chart of a model that was never created says it shows the version before it:\n%s", f)
	}
	if f := figure("built"); strings.Contains(f, "stale") {
		t.Errorf("the chart of a model that built has a note:\n%s", f)
	}
}
