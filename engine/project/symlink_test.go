package project

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestLoadFollowsSymlinkedFolders: a folder linked into models/ is read as
// if it were there; a link back to a folder it is in is an error, not an
// endless walk.
func TestLoadFollowsSymlinkedFolders(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	write("project.yaml", "name: p\n")
	write("models/own.sql", "select 1")
	write("shared/x.sql", "select 1")
	write("shared/sub/y.sql", "select 1")
	write("shared/sub/y.yml", "models:\n  - name: y\n    description: from a linked folder\n")
	link("../shared", "models/shared")

	p, diags := Load(os.DirFS(dir))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got := map[string]string{}
	for _, m := range p.Models {
		got[m.Name] = m.Path
	}
	want := map[string]string{"own": "models/own.sql", "x": "models/shared/x.sql", "y": "models/shared/sub/y.sql"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("models = %v, want %v", got, want)
	}
	for _, m := range p.Models {
		if m.Name == "y" && (m.Doc == nil || m.Doc.Description != "from a linked folder") {
			t.Errorf("the YAML beside y in the linked folder was not read: %+v", m.Doc)
		}
	}

	link("../../models", "shared/sub/back")
	_, diags = Load(os.DirFS(dir))
	const loop = "models/shared/sub/back: symlink models/shared/sub/back leads to models, a folder it is in, so reading it would never end (expected a link to a folder outside it)"
	if len(diags) != 1 || diags[0].Error() != loop {
		t.Errorf("with a link back: got %v, want\n%s", diags, loop)
	}
}
