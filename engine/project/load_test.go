package project

import (
	"io/fs"
	"strings"
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

// YAML merge keys work as in dbt projects: merged keys fill in what the
// mapping does not set itself; a single hook needs no list; a second
// document in a file is an error, not ignored.
func TestLoadYAMLForms(t *testing.T) {
	for _, tc := range []struct {
		name, project, schema string
		check                 func(*testing.T, *Project)
		errs                  string
	}{
		{name: "merge keys",
			project: "name: shop\nmodels:\n  staging: &defaults {materialized: table, schema: s, tags: [a]}\n  marts:\n    <<: *defaults\n    schema: m\n",
			check: func(t *testing.T, p *Project) {
				l := p.Folders["marts"]
				if l["schema"].V != "m" || l["materialized"].V != "table" {
					t.Errorf("marts = %v, want schema m (its own) and materialized table (merged)", l)
				}
			}},
		{name: "merge of a list of mappings, the first wins",
			project: "name: shop\nmodels:\n  marts: {<<: [{materialized: view, schema: one}, {schema: two, tags: [t]}]}\n",
			check: func(t *testing.T, p *Project) {
				l := p.Folders["marts"]
				if l["schema"].V != "one" || l["materialized"].V != "view" || l["tags"].V == nil {
					t.Errorf("marts = %v, want schema one, materialized view and the tags", l)
				}
			}},
		{name: "merge of a scalar",
			project: "name: shop\nmodels:\n  marts: {<<: 3}\n",
			errs:    `project.yaml:3:11: << merges a mapping or a list of mappings, got "3"`},
		{name: "one hook as a string",
			project: "name: shop\non-run-end: select 1\n",
			check: func(t *testing.T, p *Project) {
				if len(p.OnRunEnd) != 1 || p.OnRunEnd[0].SQL != "select 1" {
					t.Errorf("on-run-end = %v, want [select 1]", p.OnRunEnd)
				}
			}},
		{name: "second document",
			project: "name: shop\n",
			schema:  "models:\n  - name: a\n---\nmodels:\n  - name: nope\n",
			errs:    "models/schema.yml:3:1: a second YAML document (after ---): a file here holds one; move it to a file of its own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"project.yaml": {Data: []byte(tc.project)}, "models/a.sql": {Data: []byte("select 1")}}
			if tc.schema != "" {
				fsys["models/schema.yml"] = &fstest.MapFile{Data: []byte(tc.schema)}
			}
			p, diags := Load(fsys)
			if got := diags.Error(); !strings.Contains(got, tc.errs) || (tc.errs == "" && diags.HasErrors()) {
				t.Fatalf("diagnostics:\n%s\nwant %q", got, tc.errs)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

// TestLoadStripsBOM: a UTF-8 byte order mark at the start of a model, macro
// or singular test is not part of its SQL (PostgreSQL rejects it); one
// elsewhere in the file is text like any other.
func TestLoadStripsBOM(t *testing.T) {
	const bom = "\ufeff"
	fsys := fstest.MapFS{
		"project.yaml": {Data: []byte("name: shop\n")},
		"models/a.sql": {Data: []byte(bom + "select 1\r\n")},
		"models/b.sql": {Data: []byte("select '" + bom + "'")},
		"macros/m.sql": {Data: []byte(bom + `{{ define "m" }}1{{ end }}`)},
		"tests/t.sql":  {Data: []byte(bom + "select 1 where false")},
	}
	p, diags := Load(fsys)
	if p == nil || diags.HasErrors() {
		t.Fatalf("Load: %v", diags)
	}
	got := map[string]string{p.Macros[0].Path: p.Macros[0].Text, p.Singular[0].Path: p.Singular[0].SQL}
	for _, m := range p.Models {
		got[m.Path] = m.SQL
	}
	want := map[string]string{
		"models/a.sql": "select 1\r\n",
		"models/b.sql": "select '" + bom + "'",
		"macros/m.sql": `{{ define "m" }}1{{ end }}`,
		"tests/t.sql":  "select 1 where false",
	}
	for path, w := range want {
		if got[path] != w {
			t.Errorf("%s: got %q, want %q", path, got[path], w)
		}
	}
	if p.Models[0].Checksum != Checksum([]byte("select 1\r\n")) {
		t.Errorf("checksum of models/a.sql is not that of its text without the BOM")
	}
}
