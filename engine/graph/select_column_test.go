package graph

import (
	"errors"
	"sort"
	"strings"
	"testing"
)

// fakeUsage is what check found, as column: reads it.
type fakeUsage struct {
	readers map[[2]string][]string
	columns map[string][]string
}

func (u fakeUsage) Readers(id, col string) []string { return u.readers[[2]string{id, col}] }
func (u fakeUsage) Columns(id string) ([]string, bool) {
	c, ok := u.columns[id]
	return c, ok
}

// TestColumnSelector: column:node.column selects the models that read the
// column (with + their descendants); a node or column that does not exist
// is an error with the nearest name, and without what check found the
// selector says to run it.
func TestColumnSelector(t *testing.T) {
	gr := selectionGraph(t)
	usage := fakeUsage{
		readers: map[[2]string][]string{
			{"model.p.stg_a", "id"}:   {"model.p.mid"},
			{"seed.p.raw", "id"}:      {"model.p.stg_a"},
			{"model.p.mid", "id"}:     {"model.p.top1", "model.p.top2", "model.p.gone"},
			{"model.p.stg_b", "note"}: nil,
		},
		columns: map[string][]string{"model.p.stg_a": {"id"}, "model.p.mid": {"id"}},
	}
	gr.Columns = func() (ColumnUsage, error) { return usage, nil }
	tests := []struct {
		sel, want, err string
	}{
		{sel: "column:stg_a.id", want: "mid not_null_mid_id"},
		{sel: "column:raw.id", want: "stg_a"},
		{sel: "column:mid.id", want: "top1 top2"}, // a reader no longer in the project is dropped
		{sel: "column:stg_a.id+", want: "dash leaf mid not_null_mid_id top1 top2"},
		{sel: "column:stg_b.note", want: ""},
		{sel: "column:stg_a.nme", err: `stg_a has no column "nme" (check found id)`},
		{sel: "column:stg_x.id", err: `no model, seed or source is called "stg_x" (did you mean "stg_a"?)`},
		{sel: "column:stg_a", err: "write column:<model>.<column>"},
		{sel: "column:stg_a.", err: "write column:<model>.<column>"},
	}
	for _, tc := range tests {
		got, err := gr.Select([]string{tc.sel}, nil, nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.sel, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.sel, err)
			continue
		}
		var names []string
		for id := range got {
			names = append(names, gr.M.Nodes[id].Name)
		}
		sort.Strings(names)
		if g := strings.Join(names, " "); g != tc.want {
			t.Errorf("%s = %q, want %q", tc.sel, g, tc.want)
		}
	}
	gr.Columns = func() (ColumnUsage, error) { return nil, errors.New("run strata check first") }
	if _, err := gr.Select([]string{"column:stg_a.id"}, nil, nil); err == nil || !strings.Contains(err.Error(), "run strata check first") {
		t.Errorf("without what check found: %v", err)
	}
	gr.Columns = nil
	if _, err := gr.Select([]string{"column:stg_a.id"}, nil, nil); err == nil || !strings.Contains(err.Error(), "run strata check first") {
		t.Errorf("without a source of column usage: %v", err)
	}
}
