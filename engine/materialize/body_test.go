package materialize

import (
	"strings"
	"testing"
)

// lineOf is the 1-based line of the first occurrence of needle in s.
func lineOf(s, needle string) int {
	i := strings.Index(s, needle)
	if i < 0 {
		return 0
	}
	return 1 + strings.Count(s[:i], "\n")
}

// A database error is placed by its offset from the body's start, so the
// body must keep the compiled file's characters where they are.
func TestBodyKeepsLines(t *testing.T) {
	cases := []struct {
		name, sql, want string
	}{
		{"leading blank lines", "\n\n\n\nselect 1 as id,\n  nosuchcol as x\n", "\n\n\n\nselect 1 as id,\n  nosuchcol as x"},
		{"leading comment", "-- c\nselect nosuchcol;\n", "-- c\nselect nosuchcol"},
		{"crlf", "\r\n\r\nselect nosuchcol ; \r\n", "\r\n\r\nselect nosuchcol"},
		{"a comment after the semicolon", "select 1; -- note\n", "select 1 -- note"},
		{"non-ascii", "  \n-- é\nselect 'ü', nosuchcol", "  \n-- é\nselect 'ü', nosuchcol"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Body(c.sql)
			if got != c.want {
				t.Errorf("Body(%q) = %q, want %q", c.sql, got, c.want)
			}
			// Errors are placed by their offset: what comes before the
			// statement's end stays where it was.
			if strings.Index(got, "nosuchcol") != strings.Index(c.sql, "nosuchcol") || lineOf(got, "nosuchcol") != lineOf(c.sql, "nosuchcol") {
				t.Errorf("Body moved nosuchcol from offset %d to %d", strings.Index(c.sql, "nosuchcol"), strings.Index(got, "nosuchcol"))
			}
		})
	}
}
