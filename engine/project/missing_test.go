package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
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

// TestDbtFilesWarned: dbt's own files left beside project.yaml, which
// strata does not read, are each a warning at the file saying where what
// they hold goes; a project without them has no warning.
func TestDbtFilesWarned(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"dbt_project.yml", "dbt_project.yml: warning: dbt_project.yml is dbt's, and strata does not read it: its settings go in project.yaml: vars under vars:, model config by folder under models:"},
		{"profiles.yml", "profiles.yml: warning: profiles.yml is dbt's, and strata does not read it: the targets go under targets: in project.yaml"},
		{"packages.yml", "packages.yml: warning: packages.yml is dbt's, and strata does not read it: strata has no packages"},
		{"dependencies.yml", "dependencies.yml: warning: dependencies.yml is dbt's, and strata does not read it: strata has no packages"},
		{"selectors.yml", "selectors.yml: warning: selectors.yml is dbt's, and strata does not read it: strata has no named selectors: write the selection with -s and --exclude"},
		{"models/selectors.yml", ""}, // a YAML file of the project's, read as such
		{"", ""},
	} {
		fsys := fstest.MapFS{
			"project.yaml": {Data: []byte("name: p\n")},
			"models/a.sql": {Data: []byte("select 1 as id")},
		}
		if c.file != "" {
			fsys[c.file] = &fstest.MapFile{Data: []byte("version: 2\n")}
		}
		_, diags := Load(fsys)
		var got []string
		for _, d := range diags {
			got = append(got, d.Error())
		}
		if c.want == "" && len(got) != 0 || c.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], c.want)) {
			t.Errorf("%s: got %q, want %q", c.file, got, c.want)
		}
	}
}

// TestFreshnessFilter: dbt's freshness filter, on a source or a table, is
// an error at the key that says what to write instead; freshness without
// it loads.
func TestFreshnessFilter(t *testing.T) {
	const hint = `freshness: strata's has no filter, it reads the newest loaded_at_field of the whole table; for a filtered check, give the table a recency test with a where: data_tests: [{recency: {field: <loaded_at_field>, max_age: 24h, config: {where: "id > 0"}}}] (docs/tests.md)`
	for _, c := range []struct{ yaml, want string }{
		{"sources:\n  - name: app\n    loaded_at_field: at\n    freshness: {warn_after: 12h, filter: id > 0}\n    tables: [{name: events}]\n", "models/s.yml:4:34: " + hint},
		{"sources:\n  - name: app\n    loaded_at_field: at\n    tables:\n      - name: events\n        freshness:\n          error_after: {count: 1, period: day}\n          filter: id > 0\n", "models/s.yml:8:11: " + hint},
		{"sources:\n  - name: app\n    loaded_at_field: at\n    freshness: {warn_after: 12h}\n    tables: [{name: events}]\n", ""},
	} {
		_, diags := Load(fstest.MapFS{
			"project.yaml": {Data: []byte("name: p\n")},
			"models/s.yml": {Data: []byte(c.yaml)},
		})
		if got := diags.Error(); c.want == "" && got != "" || c.want != "" && (len(diags) != 1 || got != c.want) {
			t.Errorf("%s: got %q, want %q", c.yaml, got, c.want)
		}
	}
}
