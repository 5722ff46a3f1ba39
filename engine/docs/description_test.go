package docs_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/docs"
)

// A description is plain text, shown as written: a YAML block of several
// lines (paragraphs, a list) keeps its line breaks on the model's page,
// for the model and its columns, where the browser ran them together
// into one line ("One row per order. - amounts in EUR - ...").
func TestDescriptionKeepsLineBreaks(t *testing.T) {
	bin := chromium(t)
	model := &artifacts.Node{
		ID: "model.p.orders", ResourceType: "model", Name: "orders", Path: "models/orders.sql", Relation: `"public"."orders"`,
		Config:      json.RawMessage(`{"materialized":"table"}`),
		Description: "One row per order.\n\n- amounts in EUR\n- test orders left out\n",
		Columns:     []artifacts.Column{{Name: "amount", Description: "Net amount.\nIn EUR, <b>not</b> cents."}},
	}
	in := &docs.Input{
		Manifest: &artifacts.Manifest{Project: "p", Target: "dev", Nodes: map[string]*artifacts.Node{model.ID: model}},
		Catalog:  map[string][]docs.Column{model.ID: {{Name: "amount", Type: "numeric"}}},
		Offline:  "test",
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	const probe = `window.addEventListener('load', function () {
  var text = function (sel) { var e = document.querySelector(sel); return e ? e.innerText.trim() : null; };
  document.documentElement.setAttribute('data-probe', JSON.stringify({model: text('p.description'), column: text('tr[data-column="amount"] td.description')}));
});`
	b := &browser{t: t, bin: bin}
	var got map[string]string
	if err := json.Unmarshal([]byte(b.probe(filepath.Join(dir, "nodes", "model.p.orders.html"), "", probe, 1200, 800)), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"model":  "One row per order.\n\n- amounts in EUR\n- test orders left out",
		"column": "Net amount.\nIn EUR, <b>not</b> cents.",
	}
	for k, w := range want {
		if g := strings.TrimSpace(got[k]); g != w {
			t.Errorf("%s's description shows as %q, want %q", k, g, w)
		}
	}
}
