package pipeline

import (
	"strings"
	"testing"

	"strata/engine/manifest"
	"strata/engine/pgname"
	"strata/engine/plan"
	"strata/engine/project"
	"strata/engine/state"
)

// TestPlanFullRefreshAdvice: plan says what build will refuse, as build
// says it: an scd2 dimension switched to another materialization (its
// history would be lost: --full-refresh-scd2), and an incremental model
// whose unique_key column is new to its table (no row loaded before would
// match: --full-refresh); a change build takes as it is gets no such line.
func TestPlanFullRefreshAdvice(t *testing.T) {
	var l Project
	node := func(mat string, key ...string) *manifest.Node {
		return &manifest.Node{ID: "model.p.m", Kind: manifest.Model, Name: "m", Relation: pgname.Rel{Schema: "public", Name: "m"},
			Config: project.Config{Materialized: mat, UniqueKey: key, OnSchemaChange: "append_new_columns"}}
	}
	l.prod = map[string]*state.Node{"model.p.m": {Materialized: "scd2", Relation: pgname.Rel{Schema: "public", Name: "m"}}}
	moved := node("table")
	moved.Relation.Name = "m2"
	tests := []struct {
		name string
		n    *manifest.Node
		c    plan.Change
		want string
	}{
		{"scd2 to table", node("table"), plan.Change{Config: []plan.ConfigChange{{Key: "materialized", Old: `"scd2"`, New: `"table"`}}},
			"was an scd2 dimension: build refuses to build it as table, which loses its history, without --full-refresh-scd2 (strata build --full-refresh-scd2 -s m)"},
		{"scd2 to incremental", node("incremental", "id"), plan.Change{Config: []plan.ConfigChange{{Key: "materialized", Old: `"scd2"`, New: `"incremental"`}}},
			"was an scd2 dimension: build refuses to build it as incremental"},
		{"key new to the table", node("incremental", "order_id"), plan.Change{Why: []string{"sql"}, Columns: &plan.Columns{Added: []plan.Column{{Name: "order_id", Type: "integer"}}, Removed: []plan.Column{{Name: "id", Type: "integer"}}}},
			"needs a full refresh: its unique_key column order_id is new to the table"},
		{"other column added", node("incremental", "id"), plan.Change{Why: []string{"sql"}, Columns: &plan.Columns{Added: []plan.Column{{Name: "note", Type: "text"}}}},
			"rows loaded before keep the old logic"},
		{"table to view", node("view"), plan.Change{Config: []plan.ConfigChange{{Key: "materialized", Old: `"table"`, New: `"view"`}}}, ""},
		// build refuses neither: an ephemeral model builds nothing, and a
		// model at another relation leaves the dimension where it is.
		{"scd2 to ephemeral", node("ephemeral"), plan.Change{Config: []plan.ConfigChange{{Key: "materialized", Old: `"scd2"`, New: `"ephemeral"`}}}, ""},
		{"scd2 to a table elsewhere", moved, plan.Change{Config: []plan.ConfigChange{{Key: "materialized", Old: `"scd2"`, New: `"table"`}, {Key: "alias", Old: `"m"`, New: `"m2"`}}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := l.fullRefresh(tc.n, tc.c)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
