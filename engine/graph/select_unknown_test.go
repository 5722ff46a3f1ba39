package graph

import (
	"testing"
	"testing/fstest"
)

// TestSelectorThatNamesNothing: a method value that names nothing in the
// project is an error with the nearest name that exists, in --select and
// --exclude alike; a valid selection that matches nothing is not.
func TestSelectorThatNamesNothing(t *testing.T) {
	gr := selectionGraph(t)
	errs := []struct{ sel, want string }{
		{"stg_x", `--select stg_x: no model, seed, test or exposure is called "stg_x" (did you mean "stg_a"?)`},
		{"mdi+", `--select mdi+: no model, seed, test or exposure is called "mdi" (did you mean "mid"?)`},
		{"nope_*", `--select nope_*: no model, seed, test or exposure has a name matching "nope_*"`},
		{"tag:stagin", `--select tag:stagin: no node has the tag "stagin" (did you mean "staging"?)`},
		{"tag:zz*", `--select tag:zz*: no node has a tag matching "zz*"`},
		{"path:models/nope", `--select path:models/nope: no node is defined in "models/nope" or under it (did you mean "models"?)`},
		{"path:models/stagin", `--select path:models/stagin: no node is defined in "models/stagin" or under it (did you mean "models/staging"?)`},
		{"models/staging", `--select models/staging: no model, seed, test or exposure is called "models/staging" (a name holds no /: for the nodes defined in a file or under a folder, write path:models/staging)`},
		{"seeds/raw.csv+", `--select seeds/raw.csv+: no model, seed, test or exposure is called "seeds/raw.csv" (a name holds no /: for the nodes defined in a file or under a folder, write path:seeds/raw.csv)`},
		{"exposure:dsh", `--select exposure:dsh: no exposure is called "dsh" (did you mean "dash"?)`},
		{"source:crm", `--select source:crm: no source or source table is called "crm"`},
		{"config.materialised:table", `--select config.materialised:table: config key "materialised" is not known (expected a config key of models, seeds or tests, such as materialized, schema or severity) (did you mean "materialized"?)`},
		{"config.materialized:tabel", `--select config.materialized:tabel: materialized "tabel" is not known (expected one of view, table, incremental, ephemeral, materialized_view, scd2, seed) (did you mean "table"?)`},
		{"tag:staging,tag:nightlly", `--select tag:staging,tag:nightlly: no node has the tag "nightlly" (did you mean "nightly"?)`},
	}
	for _, tc := range errs {
		t.Run(tc.sel, func(t *testing.T) {
			_, err := gr.Select([]string{tc.sel}, nil, nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
	_, err := gr.Select(nil, []string{"tag:nightlly"}, nil)
	if want := `--exclude tag:nightlly: no node has the tag "nightlly" (did you mean "nightly"?)`; err == nil || err.Error() != want {
		t.Errorf("--exclude: got %v\nwant %s", err, want)
	}
	// Valid selections that happen to match nothing.
	checkSelections(t, gr, []struct{ sel, want string }{
		{"tag:nightly,resource_type:seed", ""},
		{"config.materialized:scd2", ""},
		{"config.schema:nowhere", ""},
		{"resource_type:source", ""},
		{"test_type:singular", ""},
		{"path:models/marts/top1.sql,tag:staging", ""},
	})
}

// TestSelectorNamingDisabledNode: a disabled node, its tag and its path are
// names of the project: selecting them is valid and picks nothing.
func TestSelectorNamingDisabledNode(t *testing.T) {
	gr := graphOf(t, fstest.MapFS{
		"project.yaml":       {Data: []byte("name: p\n")},
		"models/a.sql":       {Data: []byte("select 1 as id")},
		"models/old/off.sql": {Data: []byte(`{{ config "enabled" false "tags" (list "legacy") }}select 1 as id`)},
	})
	checkSelections(t, gr, []struct{ sel, want string }{
		{"off", ""},
		{"tag:legacy", ""},
		{"path:models/old", ""},
	})
}
