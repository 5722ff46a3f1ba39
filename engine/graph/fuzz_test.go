package graph

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSelect feeds arbitrary --select and --exclude arguments to the
// selector parser and matcher (docs/selectors.md) on the selection project:
// errors are fine, panics are not; an error is never empty and a selection
// holds only nodes of the project.
func FuzzSelect(f *testing.F) {
	for _, s := range []string{
		"", " ", "+", "@", "mid", "+mid", "mid+", "+mid+", "2+mid", "mid+1", "@stg_a", "@mid+",
		"tag:staging", "tag:", "tag:st*", "path:models/staging/", "path:.", "path:",
		"config.materialized:incremental", "config.:x", "config:x", "config.incremental_strategy:delete+insert",
		"resource_type:seed", "test_type:unit", "source:crm", "source:crm.accounts+", "exposure:dash", "+exposure:dash",
		"state:modified+", "state:new", "result:error+", "column:mid.id+", "column:.", "column:mid.",
		"a+,b", "mid,stg_a", ",", "mid,", ",mid", "mid ,stg_a", `"with space"+`, `'mid'`, `"open`,
		"stg_?", "stg_[", "[", "99999999999999999999+mid", "mid+99999999999999999999", "2+", "+2",
		"foo:bar", "::", "@:", "+:+", "tag:a:b", "\t mid \n",
	} {
		f.Add(s, "")
		f.Add("mid", s)
	}
	gr := selectionGraph(f)
	gr.Columns = func() (ColumnUsage, error) {
		return fakeUsage{
			readers: map[[2]string][]string{{"model.p.mid", "id"}: {"model.p.top1"}},
			columns: map[string][]string{"model.p.mid": {"id"}},
		}, nil
	}
	st := fakeState{modified: map[string]bool{"mid": true}, results: map[string]string{"model.p.top1": "error"}}
	f.Fuzz(func(t *testing.T, sel, exc string) {
		if !utf8.ValidString(sel) || !utf8.ValidString(exc) {
			return
		}
		var selects, excludes []string
		if sel != "" {
			selects = strings.Split(sel, "\x00")
		}
		if exc != "" {
			excludes = strings.Split(exc, "\x00")
		}
		for _, state := range []State{nil, st} {
			for _, pick := range []func([]string, []string, State) (map[string]bool, error){gr.Select, gr.SelectDirect} {
				got, err := pick(selects, excludes, state)
				if err != nil {
					if strings.TrimSpace(err.Error()) == "" {
						t.Fatalf("select %q exclude %q: empty error", selects, excludes)
					}
					continue
				}
				for id := range got {
					if _, ok := gr.M.Nodes[id]; !ok {
						t.Fatalf("select %q exclude %q: picked %q, not a node of the project", selects, excludes, id)
					}
				}
			}
		}
	})
}
