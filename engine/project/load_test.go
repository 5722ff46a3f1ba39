package project

import (
	"io/fs"
	"testing"
	"testing/fstest"
)

// closedFS is fsys with one folder that cannot be read, as a folder of
// another user's can be.
type closedFS struct {
	fstest.MapFS
	closed string
}

func (c closedFS) Open(name string) (fs.File, error) {
	if name == c.closed {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return c.MapFS.Open(name)
}

func (c closedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == c.closed {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return c.MapFS.ReadDir(name)
}

// Load reads models/, seeds/, macros/ and tests/ only: files elsewhere in the
// project directory (a Go module, an old target folder, docs) are ignored,
// even ones named like project files, and a folder there that cannot be read
// is no error.
func TestLoadReadsOnlyProjectFolders(t *testing.T) {
	fsys := fstest.MapFS{
		"project.yaml":                 {Data: []byte("name: shop\n")},
		"models/a.sql":                 {Data: []byte("select 1")},
		"models/target/old.sql":        {Data: []byte("select 'skipped: target'")},
		"seeds/raw.csv":                {Data: []byte("id\n1\n")},
		"macros/m.sql":                 {Data: []byte(`{{ define "m" }}1{{ end }}`)},
		"tests/t.sql":                  {Data: []byte("select 1 where false")},
		"target.1/models/b.sql":        {Data: []byte("select 2")},
		"docs/models/c.sql":            {Data: []byte("select 3")},
		"engine/testdata/models/d.sql": {Data: []byte("select 4")},
		"vendor/models/schema.yml":     {Data: []byte("not: [valid")},
		"private/secret.txt":           {Data: []byte("x")},
	}
	p, diags := Load(closedFS{fsys, "private"})
	if p == nil || diags.HasErrors() {
		t.Fatalf("Load: %v", diags)
	}
	var models []string
	for _, m := range p.Models {
		models = append(models, m.Path)
	}
	if len(models) != 1 || models[0] != "models/a.sql" {
		t.Errorf("models = %v, want [models/a.sql]", models)
	}
	if len(p.Seeds) != 1 || len(p.Macros) != 1 || len(p.Singular) != 1 {
		t.Errorf("%d seeds, %d macro files, %d singular tests; want 1 of each", len(p.Seeds), len(p.Macros), len(p.Singular))
	}
}
