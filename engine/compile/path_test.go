package compile

import (
	"os"
	"path/filepath"
	"testing"

	"strata/engine/manifest"
	"strata/engine/project"
	"strata/engine/template"
)

// A node's compiled file stays under the folder it is written to, whatever
// its name: one that would leave it is an error, not a write elsewhere.
func TestPathStaysUnderDir(t *testing.T) {
	generic := func(name string) *manifest.Node {
		return &manifest.Node{Kind: manifest.Test, Name: name, Path: "models/schema.yml"}
	}
	cases := []struct {
		what string
		node *manifest.Node
		want string // "" when refused
	}{
		{"model", &manifest.Node{Kind: manifest.Model, Name: "a", Path: "models/a.sql"}, filepath.Join("target", "compiled", "models", "a.sql")},
		{"generic test", generic("not_null_a_id"), filepath.Join("target", "compiled", "models", "schema.yml", "not_null_a_id.sql")},
		{"traversal", generic("../../../../escaped"), ""},
		{"absolute", &manifest.Node{Kind: manifest.Model, Name: "a", Path: "/etc/a.sql"}, ""},
		{"parent", generic(".."), filepath.Join("target", "compiled", "models", "schema.yml", "...sql")},
		{"up one", &manifest.Node{Kind: manifest.Model, Name: "a", Path: "../a.sql"}, ""},
		{"NUL", generic("a\x00b"), ""},
	}
	for _, c := range cases {
		got, err := Path(filepath.Join("target", "compiled"), c.node)
		if c.want == "" {
			if err == nil {
				t.Errorf("%s: Path = %q, want an error", c.what, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: Path = %q, %v; want %q", c.what, got, err, c.want)
		}
	}
}

// Nodes of different kinds with one name, declared in one folder, never
// share a compiled file: a model b, a data test b and a unit test b
// (named so in models/schema.yml), a singular test b.
func TestPathKindsDoNotCollide(t *testing.T) {
	nodes := []*manifest.Node{
		{Kind: manifest.Model, Name: "b", Path: "models/b.sql"},
		{Kind: manifest.Test, Name: "b", Path: "models/schema.yml"},
		{Kind: manifest.Test, Name: "b", Path: "models/schema.yml", Unit: &project.UnitTest{Name: "b"}},
		{Kind: manifest.Test, Name: "unit_tests", Path: "models/schema.yml"},
		{Kind: manifest.Test, Name: "b", Path: "tests/b.sql", Template: &template.Template{}},
		{Kind: manifest.Test, Name: "b", Path: "tests/schema.yml"},
	}
	want := []string{"models/b.sql", "models/schema.yml/b.sql", "models/schema.yml/unit_tests/b.sql",
		"models/schema.yml/unit_tests.sql", "tests/b.sql", "tests/schema.yml/b.sql"}
	seen := map[string]int{}
	for i, n := range nodes {
		got, err := RelPath(n)
		if err != nil {
			t.Fatalf("RelPath(%d) = %v", i, err)
		}
		if got != filepath.FromSlash(want[i]) {
			t.Errorf("RelPath(%d: %s %s at %s) = %q, want %q", i, n.Kind, n.Name, n.Path, got, want[i])
		}
		if j, dup := seen[got]; dup {
			t.Errorf("nodes %d and %d share %s", j, i, got)
		}
		seen[got] = i
	}
}

// Write refuses to write outside dir.
func TestWriteRefusesEscape(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "project", "target", "compiled")
	n := &manifest.Node{Kind: manifest.Test, Name: "../../../escaped", Path: "models/schema.yml"}
	if p, err := Write(dir, n, "select 1"); err == nil {
		t.Errorf("Write wrote %s", p)
	}
	if _, err := os.Stat(filepath.Join(root, "project", "escaped.sql")); err == nil {
		t.Errorf("a file was written outside target/compiled")
	}
}
