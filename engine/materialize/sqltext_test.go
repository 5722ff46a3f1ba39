package materialize

import "testing"

// TestTrimStatementEnd: only the semicolons ending the statement go,
// whatever comments follow them; quoted ones and earlier ones stay, and so
// do the lines before the statement.
func TestTrimStatementEnd(t *testing.T) {
	tests := []struct{ in, want string }{
		{"select 1", "select 1"},
		{"select 1;", "select 1"},
		{"select 1;;\n", "select 1"},
		{"select 1; -- trailing comment", "select 1 -- trailing comment"},
		{"select 1;\r\n-- a\r\n-- b\r\n", "select 1\r\n-- a\r\n-- b"},
		{"select 1 /* x */ ; /* y; */", "select 1 /* x */  /* y; */"},
		{"select ';'", "select ';'"},
		{"select ';' ;", "select ';'"},
		{"select 'it''s;'", "select 'it''s;'"},
		{`select E'\\;' ;`, `select E'\\;'`},
		{`select E'\' ; ' ;`, `select E'\' ; '`},
		{`select E'\';'`, `select E'\';'`},
		{`select ";" from t;`, `select ";" from t`},
		{"select $$;$$", "select $$;$$"},
		{"select $f$ ; $f$; -- é", "select $f$ ; $f$ -- é"},
		{"select 1; select 2", "select 1; select 2"},
		{"select 1 -- no; semicolon", "select 1 -- no; semicolon"},
		{"select 1 -- c\n; -- d", "select 1 -- c\n -- d"},
		{"select 'unterminated;", "select 'unterminated;"},
		{"select $$a;-- b$$ as id;", "select $$a;-- b$$ as id"},
		{"select $$$$;", "select $$$$"},
		{"\n-- lead\n\nselect 1;  \n", "\n-- lead\n\nselect 1"},
	}
	for _, tc := range tests {
		if got := TrimStatementEnd(tc.in); got != tc.want {
			t.Errorf("TrimStatementEnd(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
