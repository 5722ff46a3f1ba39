package graph

import (
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"strata/engine/manifest"
	"strata/engine/project"
)

// The selection project:
//
//	raw (seed) -> stg_a -> mid -> top1
//	                         \--> top2 (incremental) -> leaf
//	stg_b (tag nightly) -> mid
//	exposure dash depends on top1
func selectionGraph(t testing.TB) *Graph {
	t.Helper()
	fsys := fstest.MapFS{
		"project.yaml":             {Data: []byte("name: p\nmodels:\n  staging: {tags: [staging]}\n")},
		"seeds/raw.csv":            {Data: []byte("id\n1\n")},
		"models/staging/stg_a.sql": {Data: []byte(`select * from {{ ref "raw" }}`)},
		"models/staging/stg_b.sql": {Data: []byte(`{{ config "tags" (list "nightly") }}select 1 as id`)},
		"models/mid.sql":           {Data: []byte(`select * from {{ ref "stg_a" }} join {{ ref "stg_b" }} using (id)`)},
		"models/marts/top1.sql":    {Data: []byte(`select * from {{ ref "mid" }}`)},
		"models/marts/top2.sql":    {Data: []byte(`{{ config "materialized" "incremental" }}select * from {{ ref "mid" }}`)},
		"models/marts/leaf.sql":    {Data: []byte(`select * from {{ ref "top2" }}`)},
		"models/schema.yml":        {Data: []byte("models:\n  - name: mid\n    columns:\n      - name: id\n        tests: [not_null]\nexposures:\n  - name: dash\n    type: dashboard\n    depends_on: [top1]\n")},
	}
	return graphOf(t, fsys)
}

// graphOf loads and builds the project in fsys and its graph; any problem
// fails the test.
func graphOf(t testing.TB, fsys fstest.MapFS) *Graph {
	t.Helper()
	p, diags := project.Load(fsys)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m, diags := manifest.Build(p, manifest.Target{Name: "dev", Type: "local"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	gr, diags := New(m)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return gr
}

type fakeState struct {
	modified map[string]bool
	results  map[string]string
}

func (s fakeState) Modified(n *manifest.Node) bool { return s.modified[n.Name] }
func (s fakeState) New(n *manifest.Node) bool      { return false }
func (s fakeState) Result(id string) (string, bool) {
	r, ok := s.results[id]
	return r, ok
}
func (s fakeState) RunResults() error { return nil }

// names renders a selection as sorted names; tests as "test:<name>".
func names(gr *Graph, sel map[string]bool) string {
	var out []string
	for id := range sel {
		n := gr.M.Nodes[id]
		name := n.Name
		if n.Kind == manifest.Test {
			name = "test:" + name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestSelect(t *testing.T) {
	gr := selectionGraph(t)
	st := fakeState{modified: map[string]bool{"stg_b": true}, results: map[string]string{"model.p.top2": "error", "model.p.top1": "success"}}
	const midTest = "test:not_null_mid_id"
	tests := []struct {
		name, sel, exclude string
		state              State
		want               string
	}{
		{name: "name", sel: "top1", want: "top1"},
		{name: "glob", sel: "stg_*", want: "stg_a stg_b"},
		{name: "ancestors", sel: "+top1", want: "mid raw stg_a stg_b " + midTest + " top1"},
		{name: "descendants", sel: "mid+", want: "dash leaf mid " + midTest + " top1 top2"},
		{name: "ancestors to depth 2", sel: "2+top1", want: "mid stg_a stg_b " + midTest + " top1"},
		{name: "descendants to depth 1", sel: "mid+1", want: "mid " + midTest + " top1 top2"},
		{name: "at: descendants and their ancestors", sel: "@top2", want: "leaf mid raw stg_a stg_b " + midTest + " top2"},
		{name: "tag from folder", sel: "tag:staging", want: "stg_a stg_b"},
		{name: "tag from SQL config", sel: "tag:nightly", want: "stg_b"},
		{name: "path folder", sel: "path:models/marts", want: "leaf top1 top2"},
		{name: "path file", sel: "path:models/mid.sql", want: "mid " + midTest},
		{name: "config.materialized", sel: "config.materialized:incremental", want: "top2"},
		{name: "resource_type seed", sel: "resource_type:seed", want: "raw"},
		{name: "resource_type test", sel: "resource_type:test", want: midTest},
		{name: "exposure", sel: "exposure:dash", want: "dash"},
		{name: "exposure with ancestors", sel: "+exposure:dash", want: "dash mid raw stg_a stg_b " + midTest + " top1"},
		{name: "state:modified", sel: "state:modified", state: st, want: "stg_b"},
		{name: "state:modified+", sel: "state:modified+", state: st, want: "dash leaf mid stg_b " + midTest + " top1 top2"},
		{name: "result:error", sel: "result:error", state: st, want: "top2"},
		{name: "union (space)", sel: "top1 leaf", want: "leaf top1"},
		{name: "intersection (comma)", sel: "+top1,tag:staging", want: "stg_a stg_b"},
		{name: "exclude", sel: "+top1", exclude: "stg_b", want: "mid raw stg_a " + midTest + " top1"},
		{name: "exclude takes the tests along", sel: "mid", exclude: "mid", want: ""},
		{name: "tests follow their models", sel: "mid", want: "mid " + midTest},
		{name: "nothing selected is everything", sel: "", want: "dash leaf mid raw stg_a stg_b " + midTest + " top1 top2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sel, exc []string
			if tc.sel != "" {
				sel = []string{tc.sel}
			}
			if tc.exclude != "" {
				exc = []string{tc.exclude}
			}
			got, err := gr.Select(sel, exc, tc.state)
			if err != nil {
				t.Fatal(err)
			}
			if g := names(gr, got); g != tc.want {
				t.Errorf("--select %q --exclude %q\n got: %s\nwant: %s", tc.sel, tc.exclude, g, tc.want)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	gr := selectionGraph(t)
	tests := []struct{ sel, want string }{
		{"tags:x", `--select tags:x: selector method "tags" is not known (expected one of tag, path, config, resource_type, exposure, state, result, source, test_type, column) (did you mean "tag"?)`},
		{"@top1+", `--select @top1+: "@top1+": @ cannot be combined with +`},
		{"tag:", `--select tag:: "tag:" has no value after the colon`},
		{"resource_type:modle", `--select resource_type:modle: resource_type "modle" is not known (expected model, seed, test, source or exposure) (did you mean "model"?)`},
		{"state:modified", `--select state:modified: state:modified needs --state DIR (a folder holding an earlier manifest.json)`},
		{"result:eror", `--select result:eror: result:eror needs --state DIR (a folder holding an earlier run_results.json)`},
		{"config:table", `--select config:table: "config:table": write config.<key>:<value>, such as config.materialized:incremental`},
		// A space before or after a comma splits the intersection into two
		// selectors of a union, one of them with an empty side.
		{"mid ,top1", `--select ,top1: ",top1": nothing before the comma (an intersection is written a,b, without spaces around the comma)`},
		{"mid, top1", `--select mid,: "mid,": nothing after the comma (an intersection is written a,b, without spaces around the comma)`},
		{"mid,,top1", `--select mid,,top1: "mid,,top1": nothing between two commas (an intersection is written a,b, without spaces around the comma)`},
		{",", `--select ,: ",": nothing before the comma (an intersection is written a,b, without spaces around the comma)`},
		{"stg_[", `--select stg_[: "stg_[" is not a valid pattern: each [ needs its ] (stg_[ab]*), and \ a character after it`},
		{"tag:[", `--select tag:[: "[" is not a valid pattern: each [ needs its ] (stg_[ab]*), and \ a character after it`},
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
