package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// db destroy and clean --all remove the folder that .strata's record
// names only when it is a strata cluster's: a record copied with a
// project, or edited by hand, may name any folder, and removing it whole
// would delete whatever it holds.
func TestDestroyRemovesOnlyACluster(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	keep := filepath.Join(other, "notes", "keep.txt")
	writeFiles(t, other, map[string]string{"notes/keep.txt": "precious\n"})
	writeFiles(t, dir, map[string]string{
		"project.yaml":              "name: d\n",
		".strata/postgres-location": other + "\n",
	})
	for _, args := range [][]string{{"db", "destroy"}, {"clean", "--all"}} {
		code, out := strata(t, dir, args...)
		if code != ExitFailed || !strings.Contains(out, `holds "notes", which strata does not make in a cluster's folder`) || !strings.Contains(out, "nothing was removed") {
			t.Errorf("%s: %d %s", strings.Join(args, " "), code, out)
		}
		if _, err := os.Stat(keep); err != nil {
			t.Fatalf("%s removed a folder that is not a cluster: %v", strings.Join(args, " "), err)
		}
		if _, err := os.Stat(filepath.Join(dir, ".strata", "postgres-location")); err != nil {
			t.Errorf("%s forgot the record of a cluster it did not remove: %v", strings.Join(args, " "), err)
		}
	}
}
