package run

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The audit table of a store_failures test: at most 63 bytes, valid UTF-8,
// and distinct for two tests whose names share their first 63 bytes.
func TestAuditName(t *testing.T) {
	long := strings.Repeat("t", 63)
	cases := []struct {
		name string
	}{
		{"not_null_orders_id"},
		{strings.Repeat("é", 40)},
		{long + "_a"},
		{long + "_b"},
	}
	seen := map[string]string{}
	for _, c := range cases {
		got := auditName(c.name)
		if len(got) > 63 || !utf8.ValidString(got) {
			t.Errorf("auditName(%q) = %q: not a valid 63-byte identifier", c.name, got)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("auditName(%q) = auditName(%q) = %q", c.name, prev, got)
		}
		seen[got] = c.name
	}
	if got := auditName("not_null_orders_id"); got != "not_null_orders_id" {
		t.Errorf("a short name changed: %q", got)
	}
}
