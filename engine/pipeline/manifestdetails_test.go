package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"
)

// TestManifestExposureDetails: an exposure's entry in manifest.json carries
// what its YAML says of it (type, label, owner, maturity, url, description,
// depends_on, a chart's model among them), as dbt's manifest does, and
// leaves out what the YAML does not give.
func TestManifestExposureDetails(t *testing.T) {
	l := load(t, fstest.MapFS{
		"project.yaml": file("name: p\n"),
		"models/a.sql": file("select 1 as id"),
		"models/b.sql": file(`select id from {{ ref "a" }}`),
		"models/exposures.yml": file(`exposures:
  - name: full
    type: dashboard
    label: "Full \"one\""
    description: Everything said.
    owner: {name: Analytics, email: analytics@example.com}
    maturity: high
    url: https://bi.example.com/d/42
    depends_on: [b]
    charts:
      - {title: Ids, type: kpi, model: a, value: id}
  - name: bare
    type: notebook
    depends_on: [a]
  - name: mail_only
    type: ml
    maturity: low
    owner: {email: ml@example.com}
`),
	})
	if err := l.WriteManifest(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(l.TargetDir(), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Exposures map[string]map[string]any `json:"exposures"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	keys := []string{"resource_type", "name", "type", "label", "description", "owner", "maturity", "url", "depends_on"}
	cases := []struct {
		id   string
		want map[string]any
	}{
		{"exposure.p.full", map[string]any{"resource_type": "exposure", "name": "full", "type": "dashboard", "label": `Full "one"`,
			"description": "Everything said.", "owner": map[string]any{"name": "Analytics", "email": "analytics@example.com"},
			"maturity": "high", "url": "https://bi.example.com/d/42",
			"depends_on": map[string]any{"nodes": []any{"model.p.a", "model.p.b"}, "macros": []any{}}}},
		{"exposure.p.bare", map[string]any{"resource_type": "exposure", "name": "bare", "type": "notebook",
			"depends_on": map[string]any{"nodes": []any{"model.p.a"}, "macros": []any{}}}},
		{"exposure.p.mail_only", map[string]any{"resource_type": "exposure", "name": "mail_only", "type": "ml",
			"owner": map[string]any{"email": "ml@example.com"}, "maturity": "low",
			"depends_on": map[string]any{"nodes": []any{}, "macros": []any{}}}},
	}
	if len(m.Exposures) != len(cases) {
		t.Errorf("manifest.json has %d exposures, want %d", len(m.Exposures), len(cases))
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			got, ok := m.Exposures[c.id]
			if !ok {
				t.Fatalf("no %s in manifest.json's exposures", c.id)
			}
			for _, k := range keys {
				if !reflect.DeepEqual(got[k], c.want[k]) {
					t.Errorf("%s = %#v, want %#v", k, got[k], c.want[k])
				}
			}
		})
	}
}

// A source table's entry in manifest.json names its source and carries the
// source's description beside the table's own, as dbt's manifest does
// (source_name, source_description).
func TestManifestSourceDescription(t *testing.T) {
	l := load(t, fstest.MapFS{
		"project.yaml": file("name: p\n"),
		"models/a.sql": file(`select 1 as id from {{ source "crm" "accounts" }} cross join {{ source "erp" "orders" }}`),
		"models/sources.yml": file(`sources:
  - name: crm
    description: The CRM's nightly export.
    tables:
      - name: accounts
        description: One row per account.
  - name: erp
    tables: [{name: orders}]
`),
	})
	m := l.ManifestArtifact()
	cases := []struct{ id, name, sourceName, sourceDescription, description string }{
		{"source.p.crm.accounts", "crm.accounts", "crm", "The CRM's nightly export.", "One row per account."},
		{"source.p.erp.orders", "erp.orders", "erp", "", ""},
	}
	for _, c := range cases {
		n := m.Sources[c.id]
		if n == nil {
			t.Errorf("no %s in manifest.json's sources", c.id)
			continue
		}
		if n.Name != c.name || n.SourceName != c.sourceName || n.SourceDescription != c.sourceDescription || n.Description != c.description {
			t.Errorf("%s: name %q, source_name %q, source_description %q, description %q; want %q, %q, %q, %q",
				c.id, n.Name, n.SourceName, n.SourceDescription, n.Description, c.name, c.sourceName, c.sourceDescription, c.description)
		}
	}
}
