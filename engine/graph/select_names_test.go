package graph

import (
	"testing"
	"testing/fstest"
)

// spaceGraph has names with spaces, as a model file and a CSV column give them.
func spaceGraph(t *testing.T) *Graph {
	t.Helper()
	fsys := fstest.MapFS{
		"project.yaml":          {Data: []byte("name: p\n")},
		"models/with space.sql": {Data: []byte(`select 1 as "Na me"`)},
		"models/with.sql":       {Data: []byte(`select * from {{ ref "with space" }}`)},
		"models/space.sql":      {Data: []byte(`select 1 as id`)},
		"models/schema.yml":     {Data: []byte("models:\n  - name: with space\n    columns:\n      - name: Na me\n        tests: [not_null]\n")},
	}
	return graphOf(t, fsys)
}

func TestSelectNamesWithSpaces(t *testing.T) {
	gr := spaceGraph(t)
	const test = "test:not_null_with_space_Na_me" // a derived test name keeps only [A-Za-z0-9_]
	tests := []struct{ sel, want string }{
		{"with space", test + " with space"},
		{" with space ", test + " with space"},
		{`"with space"+`, test + " with with space"},
		{`'with space' space`, "space " + test + " with space"},
		{`"not_null_with_space_Na_me"`, test},
		{"with space,with", "with"}, // not a name: the union of "with" and "space,with"
		{"space with", "space with"},
	}
	checkSelections(t, gr, tests)
}

// checkSelections runs each selector alone and compares the names selected.
func checkSelections(t *testing.T, gr *Graph, tests []struct{ sel, want string }) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.sel, func(t *testing.T) {
			got, err := gr.Select([]string{tc.sel}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if g := names(gr, got); g != tc.want {
				t.Errorf("--select %q\n got: %s\nwant: %s", tc.sel, g, tc.want)
			}
		})
	}
}

func TestSelectDepthWithoutName(t *testing.T) {
	gr := selectionGraph(t)
	tests := []struct{ sel, want string }{
		{"2+", `--select 2+: "2+" has a depth but no name (expected 2+name or name+2)`},
		{"+3", `--select +3: "+3" has a depth but no name (expected 2+name or name+2)`},
		{"2+1", `--select 2+1: "2+1" has a depth but no name (expected 2+name or name+2)`},
		{`"top1`, `--select "top1: the quote " is not closed (expected a closing ")`},
	}
	for _, tc := range tests {
		t.Run(tc.sel, func(t *testing.T) {
			_, err := gr.Select([]string{tc.sel}, nil, nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestSelectNamesWithPatternCharacters: a backslash takes the character
// after it as it is (docs/selectors.md), so a model whose name holds a
// backslash or a star is selected by that name escaped, and alone.
func TestSelectNamesWithPatternCharacters(t *testing.T) {
	gr := graphOf(t, fstest.MapFS{
		"project.yaml":          {Data: []byte("name: p\n")},
		`models/back\slash.sql`: {Data: []byte(`select 1 as id`)},
		"models/backxslash.sql": {Data: []byte(`select 1 as id`)},
		"models/st*r.sql":       {Data: []byte(`select 1 as id`)},
		"models/stir.sql":       {Data: []byte(`select 1 as id`)},
	})
	checkSelections(t, gr, []struct{ sel, want string }{
		{`back\\slash`, `back\slash`},
		{`back?slash`, `back\slash backxslash`},
		{`st\*r`, "st*r"},
		{"st*r", "st*r stir"},
	})
}
