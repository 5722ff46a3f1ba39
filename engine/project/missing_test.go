package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingInADbtProject: strata run in a dbt project (dbt_project.yml,
// no project.yaml) says that it is dbt's and where the translation is;
// elsewhere the problem is as before, and a folder with both is a project.
func TestMissingInADbtProject(t *testing.T) {
	for _, c := range []struct {
		files   []string
		missing bool
		want    string
	}{
		{[]string{"dbt_project.yml"}, true, "cannot read project.yaml: no such file or directory: this folder holds dbt's dbt_project.yml, and strata reads its own project.yaml, which holds the targets of profiles.yml too (docs/coming-from-dbt.md says what goes where)"},
		{[]string{"dbt_project.yml", "project.yaml"}, false, ""},
		{[]string{"profiles.yml"}, true, "cannot read project.yaml: no such file or directory (is this a strata project? use --project-dir)"},
		{nil, true, "cannot read project.yaml: no such file or directory (is this a strata project? use --project-dir)"},
	} {
		dir := t.TempDir()
		for _, f := range c.files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("name: jaffle\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d, missing := Missing(dir)
		if missing != c.missing || missing && d.Error() != "project.yaml: "+c.want {
			t.Errorf("%s: missing %v, %q; want %v, %q", strings.Join(c.files, ", "), missing, d.Error(), c.missing, c.want)
		}
	}
}
