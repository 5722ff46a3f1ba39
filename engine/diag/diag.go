// Package diag holds positions in the user's files and the diagnostics that
// point at them, rendered one way everywhere: "path:line:col: message".
// It knows nothing of YAML, templates or databases.
package diag

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Pos is a place in a project file. Line and Col are 1-based; zero means unknown.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Origin places a text in its file when the text is only part of the file,
// such as a hook or a target setting in project.yaml, so that an error inside
// the text (a template's) points at the file. The zero Origin means the text is
// the whole file.
type Origin struct {
	// Line and Col are where the text's first character is (1-based).
	Line, Col int
	// Indent is the number of columns before the text on each later line
	// (a YAML block scalar's indentation).
	Indent int
	// Fixed says the text is not a verbatim copy of the file (a folded or
	// escaped YAML string), so no offset inside it can be mapped back: every
	// position is placed at Line:Col.
	Fixed bool
	// Pieces place a text that YAML folded from several lines of the
	// file (a ">" block, a plain scalar written over lines), where a line
	// of the text may span lines of the file: each piece is a run of the
	// text that is a run of one line of the file, from the text's byte
	// offset Off, at Line:Col of the file. When set, Line, Col and Indent
	// are not used.
	Pieces []Piece
}

// Piece is one run of a folded text in its file (Origin.Pieces).
type Piece struct {
	Off       int
	Line, Col int
}

// Place turns a position inside text, whose origin in file is o, into a
// position in file: line is 1-based (0 when unknown: the text's start),
// byteCol the byte offset in that line from 0 (-1 when unknown). Columns
// count characters, as the user's editor and YAML positions do.
func (o Origin) Place(file, text string, line, byteCol int) Pos {
	if o.Fixed {
		return Pos{File: file, Line: o.Line, Col: o.Col}
	}
	if len(o.Pieces) > 0 {
		return o.placePiece(file, text, line, byteCol)
	}
	col := 0
	if byteCol >= 0 {
		col = charCol(LineOf(text, line), byteCol)
	}
	if o.Line == 0 {
		return Pos{File: file, Line: line, Col: col}
	}
	if line == 0 { // somewhere in the text: its start
		return Pos{File: file, Line: o.Line, Col: o.Col}
	}
	if line == 1 {
		if col > 0 {
			col += o.Col - 1
		}
		return Pos{File: file, Line: o.Line, Col: col}
	}
	if col > 0 {
		col += o.Indent
	}
	return Pos{File: file, Line: o.Line + line - 1, Col: col}
}

// placePiece is Place for a folded text: the offset of line:byteCol in
// text is found in the piece that holds it.
func (o Origin) placePiece(file, text string, line, byteCol int) Pos {
	if line < 1 {
		return Pos{File: file, Line: o.Pieces[0].Line, Col: o.Pieces[0].Col}
	}
	off := 0
	for i := 1; i < line; i++ {
		j := strings.IndexByte(text[off:], '\n')
		if j < 0 {
			return Pos{File: file, Line: o.Pieces[0].Line, Col: o.Pieces[0].Col}
		}
		off += j + 1
	}
	known := byteCol >= 0
	if known {
		off = min(off+byteCol, len(text))
	}
	p := o.Pieces[0]
	for _, q := range o.Pieces[1:] {
		if q.Off > off {
			break
		}
		p = q
	}
	if !known {
		return Pos{File: file, Line: p.Line}
	}
	if off < p.Off {
		off = p.Off
	}
	return Pos{File: file, Line: p.Line, Col: p.Col + utf8.RuneCountInString(text[p.Off:off])}
}

// LineOf returns line n (1-based) of text without its line break, or "".
func LineOf(text string, n int) string {
	for i := 1; i < n; i++ {
		j := strings.IndexByte(text, '\n')
		if j < 0 {
			return ""
		}
		text = text[j+1:]
	}
	if j := strings.IndexByte(text, '\n'); j >= 0 {
		text = text[:j]
	}
	return strings.TrimSuffix(text, "\r")
}

// charCol turns a byte offset from 0 in line into a 1-based column in
// characters. An offset past the line (whose text is unknown) is kept in bytes.
func charCol(line string, byteCol int) int {
	if byteCol > len(line) {
		return byteCol + 1
	}
	return utf8.RuneCountInString(line[:byteCol]) + 1
}

// Severity tells whether a diagnostic stops the command.
type Severity int

const (
	Error Severity = iota
	Warning
)

// Diagnostic is one problem found in the user's project.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Msg      string
}

func (d Diagnostic) Error() string {
	prefix := ""
	if d.Severity == Warning {
		prefix = "warning: "
	}
	if s := d.Pos.String(); s != "" {
		return s + ": " + prefix + d.Msg
	}
	return prefix + d.Msg
}

// List collects the diagnostics of a phase, so that all problems are reported at once.
type List []Diagnostic

// Errorf adds an error at pos.
func (l *List) Errorf(pos Pos, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: pos, Severity: Error, Msg: fmt.Sprintf(format, args...)})
}

// Warnf adds a warning at pos.
func (l *List) Warnf(pos Pos, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: pos, Severity: Warning, Msg: fmt.Sprintf(format, args...)})
}

// Add appends err: a Diagnostic or List keeps its positions; any other error is placed at pos.
func (l *List) Add(pos Pos, err error) {
	if err == nil {
		return
	}
	var dl List
	if errors.As(err, &dl) {
		*l = append(*l, dl...)
		return
	}
	var d Diagnostic
	if errors.As(err, &d) {
		*l = append(*l, d)
		return
	}
	l.Errorf(pos, "%s", err.Error())
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	for _, d := range l {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Sort orders diagnostics by file, line, column and message, dropping exact repeats.
func (l *List) Sort() {
	s := *l
	sort.SliceStable(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Msg < b.Msg
	})
	out := s[:0]
	for i, d := range s {
		if i > 0 && d == s[i-1] {
			continue
		}
		out = append(out, d)
	}
	*l = out
}

// Err returns the list as an error when it holds at least one error, else nil.
func (l List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return l
}

func (l List) Error() string {
	var b strings.Builder
	for i, d := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Error())
	}
	return b.String()
}

// Suggest returns the candidate closest to s by edit distance, or "" when none is close.
// Case is ignored in measuring the distance (names are matched exactly, so
// "Stg_Orders" for stg_orders is the likeliest mistake of all); between
// candidates equally close, the one closer with case counted wins.
func Suggest(s string, candidates []string) string {
	return closest(s, candidates, len(s)/2+1)
}

// SuggestWithin returns the candidate closest to s when it is at most max
// edits away (case ignored, as in Suggest), or "": for a suggestion that
// must be a likely typo, not just the least far name.
func SuggestWithin(s string, candidates []string, max int) string {
	return closest(s, candidates, max)
}

// closest is the candidate at most max edits from s, case ignored, the
// nearest first, then the nearest with case counted, then the first.
func closest(s string, candidates []string, max int) string {
	best, bestD, bestExact := "", max+1, 0
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := distance(ls, strings.ToLower(c))
		if d > bestD {
			continue
		}
		exact := distance(s, c)
		if d < bestD || exact < bestExact {
			best, bestD, bestExact = c, d, exact
		}
	}
	return best
}

// DidYouMean renders a suggestion suffix for an unknown name, or "" when none is close.
func DidYouMean(s string, candidates []string) string {
	if c := Suggest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
