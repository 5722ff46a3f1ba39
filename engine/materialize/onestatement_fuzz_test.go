package materialize

import (
	"strings"
	"testing"
)

// FuzzOneStatement builds, from the fuzzer's bytes, one statement as
// PostgreSQL lexes it (strings, E'...' strings, quoted identifiers, dollar
// quotes, nested block comments and line comments with any text in them,
// balanced parentheses, casts, statement ends with comments): OneStatement
// must accept it, and refuse it once a second statement or a stray ) is
// added after a line break. Arbitrary text must not panic it, and a
// problem is always inside the text.
func FuzzOneStatement(f *testing.F) {
	for _, s := range []string{"", "a", "select ';' ) $$ ( */ /* -- \r\n", "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b", "'\"$x$/*--;()\\"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if p := OneStatement(string(data)); p != nil && (p.At < 0 || p.At >= len(data) || p.What == "") {
			t.Fatalf("OneStatement(%q) = %+v: not a place in the text", data, *p)
		}
		g := &stmtGen{data: data}
		s := "select " + g.pieces(0)
		if g.byte()%2 == 0 {
			s += g.end()
		}
		if p := OneStatement(s); p != nil {
			t.Fatalf("OneStatement(%q) refused one statement: %+v (at %q)", s, *p, s[p.At:])
		}
		for _, more := range []string{"\n; select 2", "\n) ; select 2", "\n)"} {
			if OneStatement(s+more) == nil {
				t.Fatalf("OneStatement(%q) accepted more than one statement", s+more)
			}
		}
	})
}

// stmtGen reads the fuzzer's bytes as choices.
type stmtGen struct {
	data []byte
	i    int
}

func (g *stmtGen) byte() byte {
	if g.i >= len(g.data) {
		return 0
	}
	g.i++
	return g.data[g.i-1]
}

// text is up to 8 bytes of anything but NUL (which PostgreSQL refuses in
// a query).
func (g *stmtGen) text() string {
	n := int(g.byte() % 9)
	var b strings.Builder
	for range n {
		if c := g.byte(); c != 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pieces is a list of tokens, parenthesized groups and comments.
func (g *stmtGen) pieces(depth int) string {
	var b strings.Builder
	for n := int(g.byte() % 6); n > 0; n-- {
		b.WriteString(g.piece(depth))
		// Always space between: "-" "-" or "/" "*" would make a comment, "e" "'x'" an E string.
		b.WriteString([]string{" ", "\n", "\t", "\r\n"}[g.byte()%4])
	}
	return b.String()
}

func (g *stmtGen) piece(depth int) string {
	switch g.byte() % 13 {
	case 0:
		return "'" + strings.ReplaceAll(g.text(), "'", "''") + "'"
	case 1:
		r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
		return " E'" + r.Replace(g.text()) + "'"
	case 2:
		return `"` + strings.ReplaceAll(g.text()+"x", `"`, `""`) + `"`
	case 3:
		tag := []string{"", "a", "_1", "fn", "é"}[g.byte()%5]
		q := "$" + tag + "$"
		body := g.text()
		if strings.Index(body+q, q) != len(body) {
			body = ""
		}
		return " " + q + body + q
	case 4:
		return "--" + strings.NewReplacer("\n", " ", "\r", " ").Replace(g.text()) + []string{"\n", "\r", "\r\n"}[g.byte()%3]
	case 5:
		return g.blockComment(0)
	case 6:
		if depth < 4 {
			return "(" + g.pieces(depth+1) + ")"
		}
		return "(1)"
	case 7:
		return "::int"
	case 8:
		return []string{"a", "x$y", "t.c", "U&\"d\\0061t\"", "U&'d\\0061t'", "b'101'", "$1", "[1]", "e"}[g.byte()%9]
	case 9:
		return []string{"+", "-", "*", "/", ",", "<>", "||", "~", ".", "=", "[", "]"}[g.byte()%12]
	case 10:
		return []string{"1", "1.5", "1e3", "0x1f"}[g.byte()%4]
	case 11:
		return " "
	}
	return "select"
}

// blockComment is a /* */ comment, maybe holding comments of its own.
func (g *stmtGen) blockComment(depth int) string {
	body := strings.NewReplacer("*", "x", "/", "x").Replace(g.text())
	if depth < 3 && g.byte()%3 == 0 {
		body += " " + g.blockComment(depth+1) + " " + strings.NewReplacer("*", "x", "/", "x").Replace(g.text())
	}
	return "/*" + body + "*/"
}

// end is the end of the statement: semicolons, space and comments.
func (g *stmtGen) end() string {
	var b strings.Builder
	for n := int(g.byte()%4) + 1; n > 0; n-- {
		b.WriteString([]string{";", " ", "\n", "-- ; )\n", "/* ; ) */", "--", "\r"}[g.byte()%7])
	}
	s := b.String()
	if strings.HasSuffix(s, "--") {
		s += "\n"
	}
	return s
}
