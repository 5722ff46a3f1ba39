package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mkfiles(t *testing.T, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o700); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// Destroy removes a folder only when it holds what strata makes in a
// cluster's folder, and nothing at all otherwise.
func TestDestroyable(t *testing.T) {
	cluster := []string{"data/PG_VERSION", "data/base/", "lock", "server.log", "run/", "data.initdb-123/", "data.initdb-123.lock", "data.initdb/"}
	for _, tc := range []struct {
		name  string
		files []string
		ok    bool
	}{
		{"cluster", cluster, true},
		{"empty data", []string{"data/", "lock"}, true},
		{"empty", nil, true},
		{"data that is not a cluster", []string{"data/sales.csv", "lock"}, false},
		{"something else", append([]string{"notes.txt"}, cluster...), false},
	} {
		root := t.TempDir()
		mkfiles(t, root, tc.files...)
		err := (&Cluster{root: root}).destroyable()
		if (err == nil) != tc.ok {
			t.Errorf("%s: destroyable = %v, want ok %v", tc.name, err, tc.ok)
		}
	}

	// A Citus cluster's folder: its nodes' folders and its lock.
	base := t.TempDir()
	mkfiles(t, base, "lock", "coordinator/data/PG_VERSION", "worker1/data/PG_VERSION", "worker7/lock", "photos/cat.jpg")
	c := &Citus{base: base, Coordinator: &Cluster{root: filepath.Join(base, "coordinator")}, Workers: []*Cluster{{root: filepath.Join(base, "worker1")}}}
	if _, err := c.Destroy(context.Background()); err == nil || !strings.Contains(err.Error(), `holds "photos"`) {
		t.Errorf("Destroy of a Citus folder holding photos/: %v", err)
	}
	mkfiles(t, base, "worker7/notes.txt")
	if err := os.RemoveAll(filepath.Join(base, "photos")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Destroy(context.Background()); err == nil || !strings.Contains(err.Error(), `holds "notes.txt"`) {
		t.Errorf("Destroy of a Citus folder whose worker7/ holds notes.txt: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "coordinator", "data", "PG_VERSION")); err != nil {
		t.Errorf("a refused Destroy removed a node: %v", err)
	}
}
