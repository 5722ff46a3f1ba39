package materialize

import (
	"fmt"
	"strings"
	"unicode"
)

// TrimStatementEnd removes the semicolons that end a model's or test's
// statement, even when comments follow them ("select 1; -- note"), and the
// space at its end, so that the statement can be wrapped (in a CTE, a
// create table as, a count). Semicolons inside string literals, quoted
// identifiers, dollar quotes and comments, and those followed by more SQL,
// are kept; the comments stay too, and so does everything before the
// statement's end, so that its lines keep their numbers.
func TrimStatementEnd(s string) string {
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	var trailing []int // semicolons with nothing but space and comments after them
	for i := 0; i < len(s); {
		switch next := skipQuoted(s, i); {
		case next > i:
			trailing = trailing[:0]
			i = next
		case s[i] == ';':
			trailing = append(trailing, i)
			i++
		default:
			if c := SkipSpaceAndComments(s[i:]); c > 0 {
				i += c
				continue
			}
			trailing = trailing[:0]
			i++
		}
	}
	for k := len(trailing) - 1; k >= 0; k-- {
		s = s[:trailing[k]] + s[trailing[k]+1:]
	}
	return strings.TrimRightFunc(s, unicode.IsSpace)
}

// skipQuoted returns the offset just past the string literal, quoted
// identifier or dollar-quoted string that starts at s[i], or i if none does.
// An unterminated one runs to the end of s.
func skipQuoted(s string, i int) int {
	next, _ := quotedEnd(s, i)
	return next
}

// quotedEnd is skipQuoted, also telling whether the quote is closed
// (false: it runs to the end of s). Strings are read as PostgreSQL reads
// them with standard_conforming_strings on, its default: a backslash
// escapes only in E'...'.
func quotedEnd(s string, i int) (next int, closed bool) {
	switch {
	case s[i] == '"':
		return pastClosing(s, i+1, `"`)
	case s[i] == '\'':
		escapes := i > 0 && (s[i-1] == 'e' || s[i-1] == 'E') && (i < 2 || !isIdentByte(s[i-2]))
		for j := i + 1; j < len(s); j++ {
			switch {
			case escapes && s[j] == '\\':
				j++
			case s[j] == '\'':
				if j+1 < len(s) && s[j+1] == '\'' {
					j++
					continue
				}
				return j + 1, true
			}
		}
		return len(s), false
	case s[i] == '$' && (i == 0 || !isIdentByte(s[i-1])):
		j := i + 1
		// The tag: identifier bytes but not $ (which closes it), not
		// starting with a digit; $$ has an empty tag.
		for j < len(s) && s[j] != '$' && isIdentByte(s[j]) && !(j == i+1 && s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j < len(s) && s[j] == '$' {
			return pastClosing(s, j+1, s[i:j+1])
		}
	}
	return i, true
}

// pastClosing returns the offset just past the first close at or after
// from, or len(s) and false when there is none.
func pastClosing(s string, from int, close string) (int, bool) {
	if k := strings.Index(s[from:], close); k >= 0 {
		return from + k + len(close), true
	}
	return len(s), false
}

func isIdentByte(b byte) bool {
	return b == '_' || b == '$' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= 0x80
}

// SkipSpaceAndComments returns the offset of the first byte of s that is not space or a SQL comment.
func SkipSpaceAndComments(s string) int {
	i := 0
	for i < len(s) {
		if s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v' {
			i++
			continue
		}
		next, _ := commentEnd(s, i)
		if next == i {
			return i
		}
		i = next
	}
	return i
}

// commentEnd returns the offset just past the comment that starts at s[i],
// or i if none does, and whether the comment is closed (false: it runs to
// the end of s). As in PostgreSQL, a -- comment ends at the end of its
// line (a \n or a \r), and /* */ comments nest: "/* a /* b */ c */" is one.
func commentEnd(s string, i int) (next int, closed bool) {
	switch {
	case strings.HasPrefix(s[i:], "--"):
		j := strings.IndexAny(s[i:], "\n\r")
		if j < 0 {
			return len(s), true // the end of the text ends the line
		}
		return i + j + 1, true
	case strings.HasPrefix(s[i:], "/*"):
		depth := 0
		for j := i; j+1 < len(s); j++ {
			switch {
			case s[j] == '/' && s[j+1] == '*':
				depth++
				j++
			case s[j] == '*' && s[j+1] == '/':
				depth--
				j++
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return len(s), false
	}
	return i, true
}

// A StatementProblem is what keeps a model's or test's SQL from being one
// statement that strata can wrap (in a create table as, a CTE, a count):
// At is the byte offset of the character at fault, What says what it is.
type StatementProblem struct {
	At   int
	What string
	// Kind is what is wrong: "semicolon" (more SQL after a ;), "close"
	// (a ) that closes nothing), "unclosed" (a parenthesis, quote or
	// comment left open at the end).
	Kind string
}

// OneStatement returns what keeps s, a rendered model or test, from being
// one statement as far as its tokens tell, or nil: a ; followed by more
// SQL (semicolons with only space and comments after them end the
// statement, TrimStatementEnd removes them), a ) that closes more
// parentheses than were opened, or a parenthesis, string literal, quoted
// identifier, dollar quote or block comment left open at the end. Any of
// them would let the SQL end the statement strata wraps it in and run
// statements of its own. It reads strings, identifiers, dollar quotes and
// comments as PostgreSQL's lexer does, so no single statement PostgreSQL
// accepts is refused.
func OneStatement(s string) *StatementProblem {
	var open []int // the offsets of the ( not closed yet
	for i := 0; i < len(s); {
		if next, closed := quotedEnd(s, i); next > i {
			if !closed {
				return &StatementProblem{At: i, Kind: "unclosed", What: unclosedQuote(s, i)}
			}
			i = next
			continue
		}
		if next, closed := commentEnd(s, i); next > i {
			if !closed {
				return &StatementProblem{At: i, Kind: "unclosed", What: `the comment "/*" is not closed by the end of the SQL (comments nest in PostgreSQL: each "/*" inside one needs its own "*/")`}
			}
			i = next
			continue
		}
		switch s[i] {
		case '(':
			open = append(open, i)
		case ')':
			if len(open) == 0 {
				return &StatementProblem{At: i, Kind: "close", What: `")" closes a parenthesis that is not open`}
			}
			open = open[:len(open)-1]
		case ';':
			rest := s[i:]
			for {
				j := SkipSpaceAndComments(rest)
				if j < len(rest) && rest[j] == ';' {
					rest = rest[j+1:]
					continue
				}
				rest = rest[j:]
				break
			}
			if rest != "" {
				return &StatementProblem{At: i, Kind: "semicolon", What: `";" ends the statement here, and more SQL follows it`}
			}
		}
		i++
	}
	if len(open) > 0 {
		return &StatementProblem{At: open[len(open)-1], Kind: "unclosed", What: `"(" is not closed by the end of the SQL`}
	}
	return nil
}

// unclosedQuote says which quote starting at s[i] is not closed.
func unclosedQuote(s string, i int) string {
	switch s[i] {
	case '"':
		return `the quoted identifier starting with '"' is not closed by the end of the SQL`
	case '\'':
		if i > 0 && (s[i-1] == 'e' || s[i-1] == 'E') {
			return `the string literal starting with "E'" is not closed by the end of the SQL (in E'...', \' is a quote, not its end)`
		}
		return `the string literal starting with "'" is not closed by the end of the SQL (a quote inside one is written '')`
	}
	tag := s[i : i+strings.IndexByte(s[i+1:], '$')+2]
	return fmt.Sprintf("the dollar-quoted string starting with %q is not closed by the end of the SQL (it ends at the next %q)", tag, tag)
}
