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
