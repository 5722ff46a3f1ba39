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
		// An scd2 dimension: build refuses another unique_key or
		// scd2_columns, a relation not built as one, a retyped column; it
		// takes the rest in place, with its history.
		{"scd2 unique_key", node("scd2", "id"), plan.Change{Config: []plan.ConfigChange{{Key: "unique_key", Old: `["k"]`, New: `["id"]`}}},
			"build refuses another unique_key on the dimension built with the old one: it needs a full refresh, which loses the dimension's history (strata build --full-refresh --full-refresh-scd2 -s m)"},
		{"scd2 scd2_columns", node("scd2", "id"), plan.Change{Config: []plan.ConfigChange{{Key: "scd2_columns", Old: ``, New: `{"valid_from":"vf"}`}}},
			"build refuses other scd2_columns on the dimension built with the old ones: it needs a full refresh"},
		{"table to scd2", node("scd2", "id"), plan.Change{Config: []plan.ConfigChange{{Key: "materialized", Old: `"table"`, New: `"scd2"`}}},
			"it was built as a table, which build refuses to update as an scd2 dimension: it needs a full refresh (strata build --full-refresh --full-refresh-scd2 -s m)"},
		{"incremental to scd2", node("scd2", "id"), plan.Change{Config: []plan.ConfigChange{{Key: "materialized", Old: `"incremental"`, New: `"scd2"`}}},
			"it was built as an incremental model, which build refuses to update as an scd2 dimension"},
		{"materialized_view to scd2", node("scd2", "id"), plan.Change{Config: []plan.ConfigChange{{Key: "materialized", Old: `"materialized_view"`, New: `"scd2"`}}},
			"it was built as a materialized view, which build refuses"},
		{"ephemeral to scd2", node("scd2", "id"), plan.Change{Config: []plan.ConfigChange{{Key: "materialized", Old: `"ephemeral"`, New: `"scd2"`}}}, ""},
		{"scd2 retyped", node("scd2", "id"), plan.Change{Why: []string{"sql"}, Columns: &plan.Columns{Retyped: []plan.Retyped{{Name: "amt"}}}},
			"build refuses the retyped column amt: cast it in the model to the dimension's type, or alter the dimension's column, which keeps its history; a full refresh loses it"},
		{"scd2 column added", node("scd2", "id"), plan.Change{Why: []string{"sql"}, Columns: &plan.Columns{Added: []plan.Column{{Name: "email", Type: "text"}}}},
			"build takes the change in place: versions already recorded keep the old logic; a full refresh would lose the dimension's history"},
		{"scd2 column removed", node("scd2", "id"), plan.Change{Why: []string{"sql"}, Columns: &plan.Columns{Removed: []plan.Column{{Name: "city", Type: "text"}}}},
			"build takes the change in place"},
		{"scd2 check_cols and strategy", node("scd2", "id"), plan.Change{Config: []plan.ConfigChange{{Key: "check_cols", Old: `["a","b"]`, New: `["a"]`}, {Key: "strategy", Old: `"check"`, New: `"timestamp"`}}},
			"build takes the change in place"},
		{"scd2 to a table elsewhere", moved, plan.Change{Config: []plan.ConfigChange{{Key: "materialized", Old: `"scd2"`, New: `"table"`}, {Key: "alias", Old: `"m"`, New: `"m2"`}}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := l.fullRefresh(tc.n, tc.c)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) || strings.Contains(tc.name, "scd2 c") && strings.Contains(got, "needs a full refresh") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
