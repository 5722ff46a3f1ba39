package graph

import (
	"testing"
	"testing/fstest"

	"strata/engine/manifest"
	"strata/engine/project"
)

// TestCycleReportedAtClosingRef: a cycle is reported at the ref that
// closes it, the one in the first node of the cycle to the last, not at
// the start of a file.
func TestCycleReportedAtClosingRef(t *testing.T) {
	fsys := fstest.MapFS{
		"project.yaml":     {Data: []byte("name: p\n")},
		"models/ok.sql":    {Data: []byte("select 1 as id")},
		"models/m/a.sql":   {Data: []byte("select *\nfrom {{ ref \"ok\" }}\njoin {{ ref \"c\" }} using (id)")},
		"models/m/b.sql":   {Data: []byte(`select * from {{ ref "a" }}`)},
		"models/m/c.sql":   {Data: []byte("-- c\nselect * from {{ ref \"b\" }}")},
		"models/x/one.sql": {Data: []byte(`select * from {{ ref "two" }}`)},
		"models/x/two.sql": {Data: []byte("select 1 as id union all\nselect * from {{ ref \"one\" }}")},
	}
	p, diags := project.Load(fsys)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m, diags := manifest.Build(p, manifest.Target{Name: "dev", Type: "local"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, diags = New(m)
	want := []string{
		"models/m/a.sql:3:9: dependency cycle: a -> b -> c -> a (each is built from the one before it; this ref to c closes the cycle)",
		"models/x/one.sql:1:18: dependency cycle: one -> two -> one (each is built from the one before it; this ref to two closes the cycle)",
	}
	if len(diags) != len(want) {
		t.Fatalf("got %v, want %d cycles", diags, len(want))
	}
	for i, d := range diags {
		if d.Error() != want[i] {
			t.Errorf("got  %s\nwant %s", d.Error(), want[i])
		}
	}
}
