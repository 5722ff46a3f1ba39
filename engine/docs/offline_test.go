package docs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/docs"
)

// Offline, a model's columns and types come from the last strata check
// while it is unchanged (docs/docs-site.md); the banner every page carries
// must not say that they come from YAML above a table that shows the check's.
func TestOfflineBannerAgreesWithTheColumns(t *testing.T) {
	yes := true
	m := &artifacts.Node{ID: "model.p.m", ResourceType: "model", Name: "m", Path: "models/m.sql", Relation: `"s"."m"`,
		Config: []byte(`{"materialized":"table"}`), ColumnsCheckedAt: "2026-01-02T03:04:05Z",
		Columns: []artifacts.Column{{Name: "id", DataType: "bigint", Produced: &yes}}}
	in := &docs.Input{
		Manifest: &artifacts.Manifest{Project: "p", Target: "dev", Nodes: map[string]*artifacts.Node{m.ID: m}},
		Offline:  "--offline",
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "nodes", "model.p.m.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.Contains(page, `data-from="check">bigint<`) {
		t.Fatalf("the page does not show the check's type:\n%s", page)
	}
	i := strings.Index(page, `class="offline"`)
	if i < 0 {
		t.Fatalf("no offline banner:\n%s", page)
	}
	banner := page[i : i+strings.Index(page[i:], "</p>")]
	if !strings.Contains(banner, "strata check") {
		t.Errorf("the offline banner does not say types come from the last check: %s", banner)
	}
}
