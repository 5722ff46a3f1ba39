package materialize

import (
	"strings"
	"testing"
)

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

// TestOneStatement: what PostgreSQL reads as one statement passes,
// whatever its strings, identifiers, dollar quotes and comments hold; a ;
// followed by more SQL, a ) that closes nothing, and a parenthesis, quote
// or comment left open are refused at the character at fault.
func TestOneStatement(t *testing.T) {
	ok := []string{
		"select 1",
		"select 1;",
		"select 1; ;\n -- end; ) (\n /* ; */ ;",
		"select ';' as a, ')' as b, '(' as c",
		"select 'it''s ) ; (' as a",
		`select E'\'' as a`,
		`select E'\' ) ; (' as a`,
		`select e'\\' as a, ')' as b`,
		`select E'\\\'' as a`,
		`select U&'d\0061t\+000061' as a`,
		`select U&'\0041' UESCAPE '!' as a`,
		`select U&"d\0061t" from t`,
		`select "a;b" from t`,
		`select "a)""(b" from t`,
		`select 1 as "(", 2 as ")"`,
		"select $$ ) ; ( $$",
		"select $tag$ it's $$ ; ) $tag$",
		"select $a$ $b$ ) $b$ $a$",
		"select $_1$;$_1$",
		"select x$y from t where a = $1", // $ in an identifier, a parameter
		"select a$b$c from t",
		"select '2024-01-01'::date, (1)::int, array[1,2]::int[]",
		"select (1 + (2)) * ((3))",
		"select 1 -- ; ) (",
		"select 1 -- ) \nfrom t",
		"select 1 -- x\r; ",
		"select 1 /* /* */ ) ; */",
		"select 1 /* a /* b /* c */ ; */ ) */ from t",
		"select 1 /**/ + 2",
		"select 2/*3*/+4",
		"select 1 --",
		"select 1\n--",
		"select 'a'\n'b'", // one string, continued
		"select b'101', x'ff', n'text'",
		"select 1 /* ; */;",
		"select 1; -- trailing\n/* and ; */ ;",
		"with a as (select 1) select * from a",
		"select f(a, g(b), (c)) over (partition by d) from t",
		"select 1 where 'a' ~ '\\)'",
		"select 'é;' as \"ü)\"",
		"",
	}
	for _, s := range ok {
		if p := OneStatement(s); p != nil {
			t.Errorf("OneStatement(%q) = %+v, want nil", s, *p)
		}
	}
	bad := []struct {
		in   string
		at   string // the text from the character at fault
		kind string
	}{
		{"select 1; select 2", "; select 2", "semicolon"},
		{"select 1 as a) ; create table public.pwned2 as (select 2 as b", ") ; create", "close"},
		{"select 1; -- c\n drop table t", "; -- c", "semicolon"},
		{"select 1 ;/* c */drop table t", ";/* c", "semicolon"},
		{"select 1;;x", ";;x", "semicolon"},
		{"select ';'; select 2", "; select 2", "semicolon"},
		{"select 1 -- c\n; drop table t", "; drop", "semicolon"},
		{"select 1 -- c\r; drop table t", "; drop", "semicolon"},
		{"select 1 /* a */ ; x", "; x", "semicolon"},
		{"select 1 /* /* */ */ ; x", "; x", "semicolon"},
		{"select $$;$$; x", "; x", "semicolon"},
		{`select E'\'';x`, ";x", "semicolon"},
		{`select '\';x`, ";x", "semicolon"}, // a backslash escapes only in E''
		{`select "a"";x"; y`, "; y", "semicolon"},
		{"select 1)", ")", "close"},
		{"select (1))", ")", "close"},
		{"select ')' )", ")", "close"},
		{"select (1", "(1", "unclosed"},
		{"select (1, (2", "(2", "unclosed"},
		{"select 'a", "'a", "unclosed"},
		{"select 'it''s", "'it''s", "unclosed"},
		{`select E'\'`, `'\'`, "unclosed"},
		{`select "a`, `"a`, "unclosed"},
		{"select $x$ a", "$x$ a", "unclosed"},
		{"select $$ a $x$", "$$ a $x$", "unclosed"},
		{"select 1 /* a", "/* a", "unclosed"},
		{"select 1 /* a /* b */", "/* a /* b */", "unclosed"},
		{"select 1 /* a */ */", ")", ""}, // no problem: a "*/" alone is an operator's text
	}
	for _, tc := range bad {
		p := OneStatement(tc.in)
		if tc.kind == "" {
			if p != nil {
				t.Errorf("OneStatement(%q) = %+v, want nil", tc.in, *p)
			}
			continue
		}
		if p == nil {
			t.Errorf("OneStatement(%q) = nil, want a %s problem at %q", tc.in, tc.kind, tc.at)
			continue
		}
		if p.Kind != tc.kind || !strings.HasPrefix(tc.in[p.At:], tc.at) || p.What == "" {
			t.Errorf("OneStatement(%q) = %+v (at %q), want a %s problem at %q", tc.in, *p, tc.in[p.At:], tc.kind, tc.at)
		}
	}
}
