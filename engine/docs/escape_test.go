package docs_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/docs"
)

// Everything the site shows from the project or the database is text: a
// name, description, tag, column, SQL, exposure label, owner, chart title
// or value holding markup shows the markup, and no page gets an element,
// an attribute or a script from it.
func TestSiteEscapesWhatItShows(t *testing.T) {
	const evil = `<script>alert('x')</script><img src=x onerror=alert(1)> & "q" 'a'`
	v := func(s string) *string { return &s }
	model := &artifacts.Node{
		ID: "model.p.m", ResourceType: "model", Name: "m", Path: "models/m.sql", Relation: `"s"."m"`,
		Description: evil, Tags: []string{evil}, Raw: "select " + evil, CompiledCode: "select " + evil,
		Config:  json.RawMessage(`{"materialized":"view","meta":{"note":` + strings.ReplaceAll(mustJSON(t, evil), `\u003c`, `<`) + `}}`),
		Columns: []artifacts.Column{{Name: evil, Description: evil, DataType: evil}},
	}
	// A model's name comes from its file's, which holds no "/".
	const oddName = `<img src=x onerror=alert(2)>&"q"'a`
	odd := &artifacts.Node{ID: "model.p." + oddName, ResourceType: "model", Name: oddName, Path: "models/" + oddName + ".sql", Description: evil,
		DependsOn: artifacts.DependsOn{Nodes: []string{"model.p.m"}}}
	in := &docs.Input{
		Manifest: &artifacts.Manifest{
			Project:  "p",
			Target:   "dev",
			Nodes:    map[string]*artifacts.Node{model.ID: model, odd.ID: odd},
			Parents:  map[string][]string{odd.ID: {model.ID}},
			Children: map[string][]string{model.ID: {odd.ID}},
		},
		Catalog: map[string][]docs.Column{model.ID: {{Name: evil, Type: evil}}},
		Dashboards: []*docs.Dashboard{{ID: "exposure.p.d", Name: "d", Label: evil, Type: "dashboard", Description: evil,
			OwnerName: evil, OwnerEmail: evil, URL: evil, DependsOn: []string{model.ID},
			Charts: []*docs.Chart{
				{Title: evil, Type: "bar", Model: "m", X: "k", Y: []string{"v"}, Data: &docs.Table{Columns: []string{"k", "v"}, Rows: [][]*string{{v(evil), v("1")}}}},
				{Title: evil, Type: "table", Model: "m", Data: &docs.Table{Columns: []string{evil}, Rows: [][]*string{{v(evil)}}}},
				{Title: evil, Type: "kpi", Model: "m", Value: "k", Data: &docs.Table{Columns: []string{"k"}, Rows: [][]*string{{v(evil)}}}},
				{Title: evil, Type: "line", Model: "m", Err: evil},
			}}},
		GeneratedAt: "2024-01-01 00:00:00 UTC",
		Offline:     evil,
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	// The site's own scripts: files under assets/, and the catalog's filter.
	script := regexp.MustCompile(`<script[^>]*>`)
	pages := 0
	err := filepath.WalkDir(dir, func(page string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(page, ".html") {
			return err
		}
		pages++
		b, err := os.ReadFile(page)
		if err != nil {
			return err
		}
		s, rel := string(b), strings.TrimPrefix(page, dir)
		for _, bad := range []string{"<script>alert", "<img"} {
			if strings.Contains(s, bad) {
				i := strings.Index(s, bad)
				t.Errorf("%s: unescaped %q: ...%s...", rel, bad, s[max(0, i-80):min(len(s), i+40)])
			}
		}
		for _, tag := range script.FindAllString(s, -1) {
			if tag != "<script>" && !strings.HasPrefix(tag, `<script src="`) {
				t.Errorf("%s: a script tag %s", rel, tag)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages < 5 {
		t.Errorf("%d pages written", pages)
	}
	// The lineage's data is a script: its strings must not end it or open markup.
	b, err := os.ReadFile(filepath.Join(dir, "assets", "graph.js"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "</script") || strings.Contains(string(b), "<img") {
		t.Errorf("graph.js holds markup: %.300s", b)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
