package plan

import (
	"fmt"
	"strings"
	"unicode"
)

// Normalize is sql as plan compares it: comments removed, each line's
// runs of whitespace made one space and trimmed, blank lines dropped, so
// that reformatting or commenting a model is no change. Text inside
// quotes (strings, quoted identifiers, dollar quotes) is kept as written.
func Normalize(sql string) []string {
	var b strings.Builder
	spaced := false // the last rune written is a space
	space := func() {
		if !spaced {
			b.WriteRune(' ')
			spaced = true
		}
	}
	rs := []rune(sql)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		wasSpaced := spaced
		spaced = false
		switch {
		case c == '-' && i+1 < len(rs) && rs[i+1] == '-':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			if i < len(rs) {
				b.WriteRune('\n')
			}
		case c == '/' && i+1 < len(rs) && rs[i+1] == '*':
			depth := 0
			for ; i < len(rs); i++ {
				if rs[i] == '/' && i+1 < len(rs) && rs[i+1] == '*' {
					depth++
					i++
				} else if rs[i] == '*' && i+1 < len(rs) && rs[i+1] == '/' {
					depth--
					i++
					if depth == 0 {
						break
					}
				} else if rs[i] == '\n' {
					b.WriteRune('\n') // the lines around it stay lines
				}
			}
			spaced = wasSpaced
			space()
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(rs) {
				if rs[j] == c {
					if j+1 < len(rs) && rs[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(rs))
			b.WriteString(string(rs[i:end]))
			i = end - 1
		case c == '$':
			tag, ok := dollarTag(rs[i:])
			if !ok {
				b.WriteRune(c)
				continue
			}
			rest := string(rs[i+len(tag):])
			k := strings.Index(rest, string(tag))
			if k < 0 {
				b.WriteString(string(rs[i:]))
				i = len(rs)
				continue
			}
			quoted := string(tag) + rest[:k] + string(tag)
			b.WriteString(quoted)
			i += len([]rune(quoted)) - 1
		case c != '\n' && unicode.IsSpace(c):
			spaced = wasSpaced
			space()
		default:
			b.WriteRune(c)
		}
	}
	var out []string
	for _, line := range strings.Split(b.String(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// dollarTag is the $tag$ that opens a dollar-quoted string at the start of
// rs, if one does.
func dollarTag(rs []rune) ([]rune, bool) {
	for j := 1; j < len(rs); j++ {
		switch c := rs[j]; {
		case c == '$':
			return rs[:j+1], true
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 1 && c >= '0' && c <= '9':
		default:
			return nil, false
		}
	}
	return nil, false
}

// Diff is the unified diff, with three lines of context, of the
// normalized forms of old and new (see Normalize): "" when they are the
// same.
func Diff(oldName, newName, old, new string) string {
	a, b := Normalize(old), Normalize(new)
	ops := lcsOps(a, b)
	changed := false
	for _, o := range ops {
		changed = changed || o.kind != ' '
	}
	if !changed {
		return ""
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
	const ctx = 3
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// A hunk: from ctx lines before this change to ctx lines after
		// the last change that is at most 2*ctx lines from the next.
		start := max(i-ctx, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*ctx {
				end = min(end+ctx, len(ops))
				break
			}
			end = run
		}
		aStart, bStart, aLen, bLen := ops[start].a, ops[start].b, 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				aLen++
			}
			if o.kind != '-' {
				bLen++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
		for _, o := range ops[start:end] {
			out.WriteByte(o.kind)
			out.WriteString(o.text)
			out.WriteByte('\n')
		}
		i = end
	}
	return out.String()
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprint(start + 1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// op is one line of a diff: kept (' '), removed ('-') or added ('+'), with
// its index in a and in b.
type op struct {
	kind byte
	text string
	a, b int
}

// lcsOps lines a up with b along a longest common subsequence.
func lcsOps(a, b []string) []op {
	// Lines common at both ends cost nothing, and compiled SQL mostly
	// changes in a few places.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	n, m := len(ma), len(mb)
	l := make([][]int32, n+1)
	for i := range l {
		l[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if ma[i] == mb[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var ops []op
	for i := 0; i < pre; i++ {
		ops = append(ops, op{' ', a[i], i, i})
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && ma[i] == mb[j]:
			ops = append(ops, op{' ', ma[i], pre + i, pre + j})
			i++
			j++
		case i < n && (j == m || l[i+1][j] >= l[i][j+1]):
			ops = append(ops, op{'-', ma[i], pre + i, pre + j})
			i++
		default:
			ops = append(ops, op{'+', mb[j], pre + i, pre + j})
			j++
		}
	}
	for k := 0; k < suf; k++ {
		ops = append(ops, op{' ', a[len(a)-suf+k], len(a) - suf + k, len(b) - suf + k})
	}
	return ops
}
