package pipeline

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"strata/engine/artifacts"
	"strata/engine/check"
)

// What check found goes to target/check.json and from there into
// manifest.json (columns with their types, columns_used) while the model
// and its ancestors are unchanged; a later check of one model keeps what
// an earlier one found of the others; column: reads it.
func TestCheckResultsKeptAndCurrent(t *testing.T) {
	files := fstest.MapFS{
		"project.yaml": file("name: p\n"),
		"models/a.sql": file("select 1 as id"),
		"models/b.sql": file(`select id from {{ ref "a" }}`),
		"models/c.sql": file("select 2 as z"),
		"models/b.yml": file("models:\n  - name: b\n    columns:\n      - name: id\n        description: the key\n        data_type: int\n      - name: gone\n"),
	}
	l := load(t, files)
	if _, err := l.ColumnUsage(); err == nil {
		t.Fatal("column: before any check must say to run check")
	}
	res := &check.Result{Nodes: map[string]*check.Node{
		"model.p.a": {ID: "model.p.a", Status: check.OK, Selected: true, Columns: []check.Column{{Name: "id", Type: "integer"}}},
		"model.p.b": {ID: "model.p.b", Status: check.OK, Selected: true, Columns: []check.Column{{Name: "id", Type: "integer"}},
			ColumnsUsed: []check.ColumnRef{{Node: "model.p.a", Column: "id"}}},
		"model.p.c": {ID: "model.p.c", Status: check.Error, Selected: true},
	}}
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	if err := l.WriteCheck(res, at); err != nil {
		t.Fatal(err)
	}
	am := l.ManifestArtifact()
	b := am.Nodes["model.p.b"]
	yes, no := true, false
	wantCols := []artifacts.Column{{Name: "id", Description: "the key", DataType: "integer", DeclaredType: "int", Produced: &yes}, {Name: "gone", Produced: &no}}
	if !slices.EqualFunc(b.Columns, wantCols, sameColumn) || b.ColumnsCheckedAt != "2024-05-01T10:00:00Z" {
		t.Errorf("b's columns %+v at %q, want %+v", b.Columns, b.ColumnsCheckedAt, wantCols)
	}
	if !slices.Equal(b.ColumnsUsed, []artifacts.ColumnRef{{Node: "model.p.a", Column: "id"}}) {
		t.Errorf("b reads %v", b.ColumnsUsed)
	}
	if c := am.Nodes["model.p.c"]; c.ColumnsCheckedAt != "" {
		t.Errorf("a model check refused has checked columns: %+v", c)
	}
	u, err := l.ColumnUsage()
	if err != nil || !slices.Equal(u.Readers("model.p.a", "id"), []string{"model.p.b"}) {
		t.Errorf("readers of a.id: %v, %v", u, err)
	}

	// A new process, a changed parent: b's record is out of date, and a
	// check of c alone keeps it in check.json.
	if err := os.WriteFile(filepath.Join(l.Dir, "models", "a.sql"), []byte("select 1::bigint as id"), 0o644); err != nil {
		t.Fatal(err)
	}
	l2, diags := Load(Options{Dir: l.Dir, LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if b := l2.ManifestArtifact().Nodes["model.p.b"]; b.ColumnsCheckedAt != "" || b.Columns[0].DataType != "int" {
		t.Errorf("b's check is out of date once a changed, yet manifest.json shows %+v", b)
	}
	if got := l2.StaleChecks(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("stale: %v, want a, b (changed) and c (refused)", got)
	}
	res2 := &check.Result{Nodes: map[string]*check.Node{"model.p.c": {ID: "model.p.c", Status: check.OK, Selected: true, Columns: []check.Column{{Name: "z", Type: "integer"}}}}}
	if err := l2.WriteCheck(res2, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	kept, err := artifacts.ReadCheck(filepath.Join(l.Dir, "target", "check.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(kept.Nodes) != 3 || kept.Nodes["model.p.b"].CheckedAt != "2024-05-01T10:00:00Z" || kept.Nodes["model.p.c"].Status != "ok" {
		t.Errorf("check.json after a check of c: %+v", kept.Nodes)
	}
	if u, err := l2.ColumnUsage(); err != nil || !slices.Equal(u.Readers("model.p.a", "id"), []string{"model.p.b"}) {
		t.Errorf("column: must still see what the earlier check found: %v", err)
	}
}

func sameColumn(a, b artifacts.Column) bool {
	return a.Name == b.Name && a.Description == b.Description && a.DataType == b.DataType && a.DeclaredType == b.DeclaredType &&
		(a.Produced == nil) == (b.Produced == nil) && (a.Produced == nil || *a.Produced == *b.Produced)
}
