package artifacts

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	p := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
	first := []File{
		{p("a/x.sql"), "select 1"},
		{p("a/y.sql"), "select 22"},
		{p("b/c/z.sql"), "select 333"},
		{p("b/empty.sql"), ""},
	}
	n, err := WriteFiles(first, 2)
	if err != nil || n != 3 { // an empty file is created but has nothing written
		t.Fatalf("first write: %d files, %v (want 3, nil)", n, err)
	}
	second := []File{
		{p("a/x.sql"), "select 1"},               // unchanged
		{p("a/y.sql"), "select 23"},              // same size, other text
		{p("b/c/z.sql"), "select 4"},             // shorter
		{p("b/empty.sql"), "select 55555555555"}, // longer
		{p("d/new.sql"), "select 'new'"},         // new folder
	}
	if b, err := os.Stat(p("b/empty.sql")); err != nil || b.Size() != 0 {
		t.Fatalf("b/empty.sql: %v", err)
	}
	n, err = WriteFiles(second, 3)
	if err != nil || n != 4 {
		t.Fatalf("second write: %d files, %v (want 4, nil)", n, err)
	}
	for _, f := range second {
		b, err := os.ReadFile(f.Path)
		if err != nil || string(b) != f.Text {
			t.Errorf("%s holds %q, %v (want %q)", f.Path, b, err, f.Text)
		}
	}
	if n, err := WriteFiles(second, 1); err != nil || n != 0 {
		t.Errorf("third write: %d files, %v (want 0: nothing changed)", n, err)
	}
	if _, err := WriteFiles([]File{{p("a"), "x"}}, 1); err == nil {
		t.Errorf("writing over a folder: no error")
	}
}

// In a folder WriteFiles creates, files are created without being read first;
// one that appears meanwhile (here: the same path twice) is compared and
// rewritten like any existing file.
func TestWriteFilesFreshFolder(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "new", "x.sql")
	n, err := WriteFiles([]File{{p, "select 1"}, {p, "select 2"}, {filepath.Join(dir, "new", "y.sql"), "select 3"}}, 1)
	if err != nil || n != 3 {
		t.Fatalf("WriteFiles: %d files, %v (want 3, nil)", n, err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "select 2" {
		t.Errorf("x.sql holds %q, %v (want the later text)", b, err)
	}
	if _, err := WriteFiles([]File{{filepath.Join(dir, "new", "y.sql", "z.sql"), "x"}}, 1); err == nil {
		t.Errorf("writing below a file: no error")
	}
}
