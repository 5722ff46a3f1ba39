package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestTargetIsPrivate (issue 21 item 10): target/ is its owner's alone,
// since compiled SQL holds rendered env_var values: the folder and its
// folders 0700, its files 0600, and a target/ made readable by an older
// strata is closed again.
func TestTargetIsPrivate(t *testing.T) {
	t.Setenv("SHOP_SECRET", "s3cret")
	dir := writeProject(t, "", map[string]string{
		"project.yaml": "name: priv\n",
		"models/m.sql": `select '{{ env_var "SHOP_SECRET" }}' as secret`,
	})
	if err := os.MkdirAll(filepath.Join(dir, "target"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "target"), 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, 0, dir, "compile")
	files := 0
	err := filepath.WalkDir(filepath.Join(dir, "target"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 {
		t.Errorf("compile wrote %d files", files)
	}
}
