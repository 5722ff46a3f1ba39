package manifest

import (
	"testing"

	"strata/engine/diag"
)

// TestEntryPos: an entry of a mapping config is placed where it was
// written, else at the mapping.
func TestEntryPos(t *testing.T) {
	whole := diag.Pos{File: "seeds/s.yml", Line: 3, Col: 5}
	entry := diag.Pos{File: "seeds/s.yml", Line: 4, Col: 15}
	n := &Node{ConfigPos: map[string]diag.Pos{"column_types": whole, "column_types.amount": entry}}
	for _, c := range []struct {
		key, sub string
		want     diag.Pos
	}{
		{"column_types", "amount", entry},
		{"column_types", "other", whole},
		{"indexes", "x", diag.Pos{}},
	} {
		if got := n.EntryPos(c.key, c.sub); got != c.want {
			t.Errorf("EntryPos(%q, %q) = %v, want %v", c.key, c.sub, got, c.want)
		}
	}
}
