package endtoend

import (
	"fmt"
	"strings"
	"testing"
)

// lineDiff shows how got differs from want, line by line: "-" for a line
// only in want, "+" for one only in got, with up to three unchanged lines of
// context around each change and "..." where unchanged lines are left out.
func lineDiff(want, got string) string {
	a, b := splitLines(want), splitLines(got)
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, line{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', a[i]})
			i++
		default:
			lines = append(lines, line{'+', b[j]})
			j++
		}
	}
	const context = 3
	near := func(k int) bool {
		for d := max(0, k-context); d <= min(len(lines)-1, k+context); d++ {
			if lines[d].op != ' ' {
				return true
			}
		}
		return false
	}
	var out strings.Builder
	skipped := false
	for k, l := range lines {
		if !near(k) {
			if !skipped {
				out.WriteString("...\n")
			}
			skipped = true
			continue
		}
		skipped = false
		fmt.Fprintf(&out, "%c %s\n", l.op, l.text)
	}
	return out.String()
}

// splitLines splits text into lines; a last line without a newline is marked,
// so a missing final newline shows in the diff.
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if strings.HasSuffix(l, "\n") {
			lines[i] = strings.TrimSuffix(l, "\n")
		} else {
			lines[i] = l + "  (no newline at the end)"
		}
	}
	return lines
}

func TestLineDiff(t *testing.T) {
	for _, tc := range []struct{ name, want, got, diff string }{
		{"equal", "a\nb\n", "a\nb\n", "...\n"},
		{"changed line", "a\nb\nc\n", "a\nB\nc\n", "  a\n- b\n+ B\n  c\n"},
		{"added at end", "a\n", "a\nb\n", "  a\n+ b\n"},
		{"removed at start", "a\nb\n", "b\n", "- a\n  b\n"},
		{"from nothing", "", "x\n", "+ x\n"},
		{"final newline", "a\n", "a", "- a\n+ a  (no newline at the end)\n"},
		{"context is cut", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\n5\n6\n7\n8\nnine\n", "...\n  6\n  7\n  8\n- 9\n+ nine\n"},
		{"two hunks", "x\n1\n2\n3\n4\n5\n6\n7\n8\ny\n", "X\n1\n2\n3\n4\n5\n6\n7\n8\nY\n",
			"- x\n+ X\n  1\n  2\n  3\n...\n  6\n  7\n  8\n- y\n+ Y\n"},
	} {
		if got := lineDiff(tc.want, tc.got); got != tc.diff {
			t.Errorf("%s: lineDiff(%q, %q) =\n%s\nwant\n%s", tc.name, tc.want, tc.got, got, tc.diff)
		}
	}
}
