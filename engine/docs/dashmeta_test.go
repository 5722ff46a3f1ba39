package docs_test

import (
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/docs"
)

// A dashboard's page says under its title what its exposure's YAML says:
// the type, the owner (by name, by email, or both), the maturity and the
// url, each only when given.
func TestDashboardMeta(t *testing.T) {
	cases := []struct {
		d    docs.Dashboard
		want string // the meta line's text
	}{
		{docs.Dashboard{Type: "dashboard"}, "dashboard"},
		{docs.Dashboard{Type: "dashboard", OwnerName: "Analytics", OwnerEmail: "a@example.com", Maturity: "high", URL: "https://bi.example.com/d/1"},
			"dashboard · owner Analytics <a@example.com> · maturity high · https://bi.example.com/d/1"},
		{docs.Dashboard{Type: "notebook", OwnerEmail: "ml@example.com"}, "notebook · owner <ml@example.com>"},
		{docs.Dashboard{Type: "dashboard", OwnerName: "Ops", Maturity: "low"}, "dashboard · owner Ops · maturity low"},
	}
	in := &docs.Input{Manifest: &artifacts.Manifest{Nodes: map[string]*artifacts.Node{}, Exposure: map[string]*artifacts.Node{}}, Offline: "test"}
	for i := range cases {
		d := &cases[i].d
		d.Name = "d" + string(rune('a'+i))
		d.ID = "exposure.p." + d.Name
		in.Manifest.Exposure[d.ID] = &artifacts.Node{ID: d.ID, ResourceType: "exposure", Name: d.Name}
		in.Dashboards = append(in.Dashboards, d)
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	meta := regexp.MustCompile(`(?s)<article class="dashboard"[^>]*>.*?<p class="meta">(.*?)</p>`)
	tags := regexp.MustCompile(`<[^>]*>`)
	for _, c := range cases {
		b, err := os.ReadFile(filepath.Join(dir, "dashboards", c.d.Name+".html"))
		if err != nil {
			t.Fatal(err)
		}
		m := meta.FindSubmatch(b)
		if m == nil {
			t.Errorf("dashboards/%s.html has no meta line", c.d.Name)
			continue
		}
		if got := strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(string(m[1]), ""))); got != c.want {
			t.Errorf("dashboards/%s.html says %q, want %q", c.d.Name, got, c.want)
		}
	}
}

// A source table's page says what its source's YAML says of the source
// (its description, escaped) above the table's own description; a source
// without one, and a model, have no such line.
func TestSourcePageShowsTheSourcesDescription(t *testing.T) {
	in := &docs.Input{Manifest: &artifacts.Manifest{
		Nodes: map[string]*artifacts.Node{"model.p.m": {ID: "model.p.m", ResourceType: "model", Name: "m", Description: "A model."}},
		Sources: map[string]*artifacts.Node{
			"source.p.crm.accounts": {ID: "source.p.crm.accounts", ResourceType: "source", Name: "crm.accounts", Description: "One row per account.",
				SourceName: "crm", SourceDescription: "The CRM's <nightly> export."},
			"source.p.erp.orders": {ID: "source.p.erp.orders", ResourceType: "source", Name: "erp.orders", SourceName: "erp"},
		}}, Offline: "test"}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	desc := regexp.MustCompile(`<p class="description[^"]*">(.*?)</p>`)
	for id, want := range map[string][]string{
		"source.p.crm.accounts": {"Source crm: The CRM&#39;s &lt;nightly&gt; export.", "One row per account."},
		"source.p.erp.orders":   nil,
		"model.p.m":             {"A model."},
	} {
		b, err := os.ReadFile(filepath.Join(dir, "nodes", id+".html"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range desc.FindAllStringSubmatch(string(b), -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: descriptions %q, want %q", id, got, want)
		}
	}
}

// A source is loaded outside strata and no command runs it: its page says
// so where a model's says when it last ran, and the catalog shows no run
// status for it, where both said "not run", as of a model never built.
func TestSourceIsNotCalledNotRun(t *testing.T) {
	in := &docs.Input{Manifest: &artifacts.Manifest{
		Nodes:   map[string]*artifacts.Node{"model.p.m": {ID: "model.p.m", ResourceType: "model", Name: "m"}},
		Sources: map[string]*artifacts.Node{"source.p.crm.accounts": {ID: "source.p.crm.accounts", ResourceType: "source", Name: "crm.accounts", SourceName: "crm"}},
	}, Offline: "test"}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	lastRun := regexp.MustCompile(`(?s)<section id="last-run"><h2>Last run</h2>\s*(.*?)</section>`)
	for id, want := range map[string]string{
		"source.p.crm.accounts": "<p>A source is loaded outside strata: no command runs it. Its tests, below, check it.</p>",
		"model.p.m":             "<p>Not run: no command has run it since <code>target/</code> was made.</p>",
	} {
		b, err := os.ReadFile(filepath.Join(dir, "nodes", id+".html"))
		if err != nil {
			t.Fatal(err)
		}
		if m := lastRun.FindSubmatch(b); m == nil || strings.TrimSpace(string(m[1])) != want {
			t.Errorf("%s: Last run says %q, want %q", id, m, want)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "catalog.html"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`<tr data-name="([^"]*)">.*?</tr>`)
	for _, m := range row.FindAllSubmatch(b, -1) {
		notRun := strings.Contains(string(m[0]), ">not run<")
		if name := string(m[1]); notRun != (name == "m") {
			t.Errorf("catalog row of %s: says not run: %v, want %v\n%s", name, notRun, name == "m", m[0])
		}
	}
	if n := len(row.FindAll(b, -1)); n != 2 {
		t.Errorf("catalog has %d rows, want 2", n)
	}
}
