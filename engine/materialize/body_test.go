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

// A database error is placed by counting lines from the body's start, so the
// body must keep the compiled file's lines where they are.
func TestBodyKeepsLines(t *testing.T) {
	cases := []struct {
		name, sql, want, wantEmpty string
	}{
		{"leading blank lines", "\n\n\n\nselect 1 as id,\n  nosuchcol as x\n", "\n\n\n\nselect 1 as id,\n  nosuchcol as x",
			"select * from (\n\n\n\nselect 1 as id,\n  nosuchcol as x\n) as strata_empty limit 0"},
		{"leading comment", "-- c\nselect nosuchcol;\n", "-- c\nselect nosuchcol",
			"select * from (-- c\nselect nosuchcol\n) as strata_empty limit 0"},
		{"crlf", "\r\n\r\nselect nosuchcol ; \r\n", "\r\n\r\nselect nosuchcol",
			"select * from (\r\n\r\nselect nosuchcol\n) as strata_empty limit 0"},
		{"a comment after the semicolon", "select 1; -- note\n", "select 1 -- note",
			"select * from (select 1 -- note\n) as strata_empty limit 0"},
		{"non-ascii", "  \n-- é\nselect 'ü', nosuchcol", "  \n-- é\nselect 'ü', nosuchcol",
			"select * from (  \n-- é\nselect 'ü', nosuchcol\n) as strata_empty limit 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Body(c.sql, false); got != c.want {
				t.Errorf("Body(%q, false) = %q, want %q", c.sql, got, c.want)
			}
			got := Body(c.sql, true)
			if got != c.wantEmpty {
				t.Errorf("Body(%q, true) = %q, want %q", c.sql, got, c.wantEmpty)
			}
			if lineOf(got, "nosuchcol") != lineOf(c.sql, "nosuchcol") {
				t.Errorf("--empty moved nosuchcol from line %d to %d", lineOf(c.sql, "nosuchcol"), lineOf(got, "nosuchcol"))
			}
		})
	}
}
