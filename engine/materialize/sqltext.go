package materialize

import (
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
				return j + 1
			}
		}
		return len(s)
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
	return i
}

// pastClosing returns the offset just past the first close at or after from, or len(s).
func pastClosing(s string, from int, close string) int {
	if k := strings.Index(s[from:], close); k >= 0 {
		return from + k + len(close)
	}
	return len(s)
}

func isIdentByte(b byte) bool {
	return b == '_' || b == '$' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= 0x80
}

// SkipSpaceAndComments returns the offset of the first byte of s that is not space or a SQL comment.
func SkipSpaceAndComments(s string) int {
	i := 0
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r':
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return len(s)
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return len(s)
			}
			i += j + 4
		default:
			return i
		}
	}
	return i
}
