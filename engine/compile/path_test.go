package compile

import (
	"os"
	"path/filepath"
	"testing"

	"strata/engine/manifest"
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
		{"generic test", generic("not_null_a_id"), filepath.Join("target", "compiled", "models", "not_null_a_id.sql")},
		{"traversal", generic("../../../../escaped"), ""},
		{"absolute", &manifest.Node{Kind: manifest.Model, Name: "a", Path: "/etc/a.sql"}, ""},
		{"parent", generic(".."), filepath.Join("target", "compiled", "models", "...sql")},
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
