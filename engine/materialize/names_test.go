package materialize

import (
	"strings"
	"testing"
	"unicode/utf8"

	"strata/engine/project"
)

// The helpers that derive a name from a model's must cut it on a character
// boundary: a cut inside a UTF-8 character is refused by the server.
func TestNamesCutOnCharacterBoundary(t *testing.T) {
	e30 := strings.Repeat("é", 30) // 60 bytes
	e40 := strings.Repeat("é", 40) // 80 bytes
	cases := []struct {
		what, got string
	}{
		{"TempName", TempName(e30)},
		{"StageName", StageName(e30)},
		{"IndexName", IndexName(e30, project.Index{Columns: []string{"id"}})},
		{"IndexName unique", IndexName(e30, project.Index{Columns: []string{"id"}, Unique: true})},
		{"PartitionName", PartitionName(e30, "20240101")},
		{"shortName", shortName(e30, "__scd2_key_uidx")},
		{"shortName src", shortName(e30, "__strata_src")},
		{"shortName history", shortName(e30, "__scd2_history_uidx")},
		{"FitName", FitName(e40)},
		// An odd prefix moves every cut to the other byte of a character.
		{"IndexName odd", IndexName("x"+e30, project.Index{Columns: []string{"id"}})},
		{"PartitionName odd", PartitionName("x"+e30, "20240101")},
		{"FitName odd", FitName("x" + e40)},
	}
	for _, c := range cases {
		if !utf8.ValidString(c.got) {
			t.Errorf("%s: %q is not valid UTF-8", c.what, c.got)
		}
		if len(c.got) > MaxIdent {
			t.Errorf("%s: %q is %d bytes (over %d)", c.what, c.got, len(c.got), MaxIdent)
		}
	}
}

// ASCII names keep the names they had before (existing indexes and
// partitions are found by name).
func TestNamesASCIIUnchanged(t *testing.T) {
	a60 := strings.Repeat("a", 60)
	cases := []struct{ what, got, want string }{
		{"TempName short", TempName("orders"), "orders__strata_new"},
		{"TempName long", TempName(a60), strings.Repeat("a", 51) + "__strata_new"},
		{"StageName long", StageName(a60), strings.Repeat("a", 49) + "__strata_stage"},
		{"FitName short", FitName("orders"), "orders"},
		{"FitName 63", FitName(strings.Repeat("a", 63)), strings.Repeat("a", 63)},
		{"CutName", CutName("aé", 2), "a"},
		{"CutName whole", CutName("aé", 3), "aé"},
		{"CutName none", CutName("é", 0), ""},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	ix := IndexName(a60, project.Index{Columns: []string{"id"}})
	if len(ix) != 63 || !strings.HasPrefix(ix, strings.Repeat("a", 54)+"_") {
		t.Errorf("IndexName long: %q", ix)
	}
}

// Two long names that share their first 63 bytes must not fit to one name.
func TestFitNameKeepsLongNamesApart(t *testing.T) {
	a := strings.Repeat("x", 63) + "_one"
	b := strings.Repeat("x", 63) + "_two"
	if FitName(a) == FitName(b) {
		t.Errorf("FitName(%q) == FitName(%q) == %q", a, b, FitName(a))
	}
}
