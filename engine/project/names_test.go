package project

import (
	"strings"
	"testing"
	"testing/fstest"
)

// Names that become part of an id, a file or a relation are checked when the
// project is read, each at the place it is written.
func TestLoadRejectsBadNames(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string // one of the diagnostics, exactly
	}{
		{"empty project name", map[string]string{"project.yaml": "name: \"\"\n"},
			`project.yaml:1:7: name "" must match [a-z_][a-z0-9_]*`},
		{"bad project name", map[string]string{"project.yaml": "name: Shop-1\n"},
			`project.yaml:1:7: name "Shop-1" must match [a-z_][a-z0-9_]*`},
		{"empty model name", map[string]string{"models/x/.sql": "select 1"},
			`models/x/.sql:1:1: model file models/x/.sql has no name (expected models/<name>.sql)`},
		{"source name with a dot", map[string]string{"models/s.yml": "sources:\n  - name: a.b\n    tables: [{name: c}]\n"},
			`models/s.yml:2:11: source name "a.b" contains a dot (expected a name without dots; to read a table with dots in its name, set identifier:)`},
		{"source table name with a dot", map[string]string{"models/s.yml": "sources:\n  - name: a\n    tables: [{name: b.c}]\n"},
			`models/s.yml:3:21: source table name "b.c" contains a dot (expected a name without dots; to read a table with dots in its name, set identifier:)`},
		{"empty source name", map[string]string{"models/s.yml": "sources:\n  - name: \"\"\n    tables: [{name: c}]\n"},
			`models/s.yml:2:11: source name is empty`},
		{"empty source table name", map[string]string{"models/s.yml": "sources:\n  - name: a\n    tables: [{name: \"\"}]\n"},
			`models/s.yml:3:21: source table name is empty`},
		{"empty identifier", map[string]string{"models/s.yml": "sources:\n  - name: a\n    tables: [{name: c, identifier: \"\"}]\n"},
			`models/s.yml:3:36: identifier of source table a.c is empty (expected the table's name in the database)`},
		{"empty seed name", map[string]string{"seeds/.csv": "id\n1\n"},
			`seeds/.csv: seed file seeds/.csv has no name (expected seeds/<name>.csv)`},
		{"bad exposure name", map[string]string{"models/e.yml": "exposures:\n  - name: \"bad name!\"\n    type: dashboard\n"},
			`models/e.yml:2:11: exposure name "bad name!" must contain only letters, digits and underscores`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{"project.yaml": {Data: []byte("name: shop\n")}}
			for k, v := range c.files {
				fsys[k] = &fstest.MapFile{Data: []byte(v)}
			}
			_, diags := Load(fsys)
			var got []string
			for _, d := range diags {
				got = append(got, d.Error())
			}
			found := false
			for _, g := range got {
				found = found || g == c.want
			}
			if !found {
				t.Errorf("diagnostics:\n%s\nwant among them:\n%s", strings.Join(got, "\n"), c.want)
			}
		})
	}
}

// The names the checks must leave alone.
func TestLoadAcceptsGoodNames(t *testing.T) {
	fsys := fstest.MapFS{
		"project.yaml": {Data: []byte("name: _shop2\n")},
		"models/a.sql": {Data: []byte("select 1")},
		"models/s.yml": {Data: []byte("sources:\n  - name: crm\n    tables: [{name: accounts, identifier: \"Accounts.v2\"}]\n" +
			"exposures:\n  - name: Exec_Summary_2\n    type: dashboard\n")},
	}
	if _, diags := Load(fsys); diags.HasErrors() {
		t.Errorf("Load: %v", diags)
	}
}
