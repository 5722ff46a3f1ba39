package graph

import (
	"testing"
	"testing/fstest"
)

// TestSelectDepthStepsThroughEphemeral: an ephemeral model is inlined into
// the models that ref it, so a step through it costs no level: 1+m picks
// the view m reads through two ephemeral models, and v+1 picks m.
//
//	v (view) -> e1 (ephemeral) -> e2 (ephemeral) -> m -> top
func TestSelectDepthStepsThroughEphemeral(t *testing.T) {
	gr := graphOf(t, fstest.MapFS{
		"project.yaml":   {Data: []byte("name: p\n")},
		"models/v.sql":   {Data: []byte("select 1 as id")},
		"models/e1.sql":  {Data: []byte(`{{ config "materialized" "ephemeral" }}select * from {{ ref "v" }}`)},
		"models/e2.sql":  {Data: []byte(`{{ config "materialized" "ephemeral" }}select * from {{ ref "e1" }}`)},
		"models/m.sql":   {Data: []byte(`select * from {{ ref "e2" }}`)},
		"models/top.sql": {Data: []byte(`select * from {{ ref "m" }}`)},
	})
	checkSelections(t, gr, []struct{ sel, want string }{
		{"1+m", "e1 e2 m v"},
		{"m+1", "m top"},
		{"v+1", "e1 e2 m v"},
		{"2+top", "e1 e2 m top v"},
		{"1+top", "m top"},
		{"e2+1", "e2 m"},
	})
}
