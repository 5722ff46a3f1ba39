package project

import (
	"testing"
	"testing/fstest"
)

// TestSeedDeclaredWithoutCSV: a seed declared in YAML whose CSV is absent
// is a seed without a file (a warning at its declaration, suggesting only
// seeds that have a file); a declaration that names a model is an error,
// as is a second declaration of the same seed.
func TestSeedDeclaredWithoutCSV(t *testing.T) {
	fsys := fstest.MapFS{
		"project.yaml":        {Data: []byte("name: p\n")},
		"models/raw_ord.sql":  {Data: []byte("select 1 as id")},
		"seeds/raw_items.csv": {Data: []byte("id\n1\n")},
		"seeds/sub/s.yml": {Data: []byte(`seeds:
  - name: raw_orders
    description: generated
    columns:
      - name: id
        tests: [not_null]
  - name: raw_item
  - name: raw_ord
`)},
		"seeds/sub/t.yml": {Data: []byte("seeds:\n  - name: raw_orders\n")},
		"models/more.yml": {Data: []byte("seeds:\n  - name: elsewhere\n")},
	}
	p, diags := Load(fsys)
	want := []string{
		`models/more.yml:2:11: warning: seed "elsewhere" has no CSV file seeds/elsewhere.csv yet: refs to it resolve, but seed and build need the file`,
		`seeds/sub/s.yml:2:11: warning: seed "raw_orders" has no CSV file seeds/sub/raw_orders.csv yet: refs to it resolve, but seed and build need the file`,
		`seeds/sub/s.yml:7:11: warning: seed "raw_item" has no CSV file seeds/sub/raw_item.csv yet (did you mean "raw_items"?): refs to it resolve, but seed and build need the file`,
		`seeds/sub/s.yml:8:11: seed "raw_ord" is described here but there is no seeds/raw_ord.csv, and raw_ord is a model (models/raw_ord.sql)`,
		`seeds/sub/t.yml:2:11: seed "raw_orders" is described twice: here and at seeds/sub/s.yml:2:11`,
	}
	if len(diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d:\n%v", len(diags), len(want), diags)
	}
	for i, d := range diags {
		if d.Error() != want[i] {
			t.Errorf("diagnostic %d:\n got %s\nwant %s", i, d.Error(), want[i])
		}
	}
	seeds := map[string]*Seed{}
	for _, s := range p.Seeds {
		seeds[s.Name] = s
	}
	s := seeds["raw_orders"]
	if s == nil || !s.Missing || s.Path != "seeds/sub/raw_orders.csv" || s.Doc == nil || s.Doc.Description != "generated" || len(s.Doc.Columns) != 1 {
		t.Errorf("raw_orders = %+v, want a missing seed with its YAML entry", s)
	}
	if s := seeds["raw_items"]; s == nil || s.Missing || s.Checksum == "" {
		t.Errorf("raw_items = %+v, want the seed of its file", s)
	}
	if _, ok := seeds["raw_ord"]; ok {
		t.Errorf("raw_ord became a seed beside the model of that name")
	}
}
