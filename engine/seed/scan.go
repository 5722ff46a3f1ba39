package seed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"unicode/utf8"

	"strata/engine/diag"
)

// The scanner is a byte-level CSV reader for the inference pass. It exists
// because encoding/csv allocates a string per field and is several times
// slower than the COPY it precedes; this one hands out offsets into its buffer
// and touches every byte once (twice inside quotes, via the SIMD helpers of
// package bytes).
//
// It accepts exactly what PostgreSQL's COPY ... (FORMAT csv) loads the same
// way, and rejects with a position what COPY would reject or load differently:
// a bare quote inside an unquoted field, text after a closing quote, an
// unquoted carriage return, line endings that change style within the file
// (COPY fixes the style on the first line), and a line that is only `\.`
// (COPY's end-of-data marker, even inside a quoted field).

// field is one cell of the current record: buf[start:end]. For a quoted field
// the surrounding quotes are excluded and doubled quotes are left as they are.
type field struct {
	start, end int
	quoted     bool
}

// Byte classes of the scanner's lookup table; zero is ordinary data.
const (
	clsData = iota
	clsDelim
	clsQuote
	clsLF
	clsCR
)

// End-of-line styles, fixed by the first line as COPY does.
const (
	eolUnknown = iota
	eolLF
	eolCRLF
)

// The buffer starts small for small files and grows to bufferSize, which
// amortizes reads and refills for large ones.
const (
	initialBuffer = 4 << 10
	bufferSize    = 256 << 10
)

var errNeedMore = errors.New("need more input")

type scanner struct {
	ctx     context.Context
	r       io.Reader
	hash    hash.Hash // every byte read from r goes through it; may be nil
	path    string
	delim   byte
	tab     [256]uint8
	buf     []byte
	pos     int // start of the unconsumed input in buf
	end     int // end of the valid input in buf
	eof     bool
	started bool
	read    int64 // bytes read from r
	last    byte  // the last byte read from r

	line     int // physical line at which the next record starts
	recLine  int // physical line at which the current record starts
	recStart int // offset of the current record in buf, valid until the next call
	eol      int
	fields   []field

	// typedBy, when set (by infer), holds for each column the value that
	// last narrowed the types it can be: what made it its type.
	typedBy []valueAt

	// more: the input is a piece of a file that goes on after it, so
	// blank lines at its end are not at the end of the file.
	more bool
	// blank counts the blank lines at the end of the file, which are not
	// rows (scanRows sets it).
	blank int
}

func newScanner(ctx context.Context, r io.Reader, h hash.Hash, path string, delim byte) *scanner {
	s := &scanner{ctx: ctx, r: r, hash: h, path: path, delim: delim, buf: make([]byte, initialBuffer), line: 1}
	s.tab[delim] = clsDelim
	s.tab['"'] = clsQuote
	s.tab['\n'] = clsLF
	s.tab['\r'] = clsCR
	return s
}

// errorAt builds a diagnostic for a position in the current record.
func (s *scanner) errorAt(line, col int, format string, args ...any) error {
	return diag.Diagnostic{Pos: diag.Pos{File: s.path, Line: line, Col: col}, Msg: fmt.Sprintf(format, args...)}
}

// posOf turns an offset inside the current record into a 1-based line and
// column (in characters).
func (s *scanner) posOf(off int) (line, col int) {
	rec := s.buf[s.recStart:off]
	line = s.recLine + bytes.Count(rec, []byte{'\n'})
	if i := bytes.LastIndexByte(rec, '\n'); i >= 0 {
		rec = rec[i+1:]
	}
	return line, utf8.RuneCount(rec) + 1
}

// fill moves the unconsumed input to the front of the buffer, grows the buffer
// when a single record fills it, and reads more.
func (s *scanner) fill() error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	if s.pos > 0 {
		copy(s.buf, s.buf[s.pos:s.end])
		s.end -= s.pos
		s.recStart -= s.pos
		s.pos = 0
	}
	if s.end == len(s.buf) || len(s.buf) < bufferSize && s.started {
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	// Fill the buffer completely: a record cut by the end of the buffer is
	// parsed again from its start, so small reads would make long records
	// quadratic.
	for !s.eof && s.end < len(s.buf) {
		n, err := s.r.Read(s.buf[s.end:])
		if n > 0 {
			if s.hash != nil {
				s.hash.Write(s.buf[s.end : s.end+n])
			}
			s.end += n
			s.read += int64(n)
			s.last = s.buf[s.end-1]
		}
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			return err
		}
	}
	if !s.started && (s.end >= 3 || s.eof) {
		s.started = true
		// A UTF-8 byte order mark (Excel writes one) is not part of the
		// first column's name; COPY skips the header line anyway.
		if bytes.HasPrefix(s.buf[:s.end], []byte("\xef\xbb\xbf")) {
			s.pos = 3
		}
	}
	return nil
}

// next reads the next record into s.fields. It returns io.EOF at the end of
// the input, or a diagnostic for malformed CSV.
func (s *scanner) next() error {
	for {
		if !s.started || (s.pos >= s.end && !s.eof) {
			if err := s.fill(); err != nil {
				return err
			}
			continue
		}
		if s.pos >= s.end {
			return io.EOF
		}
		err := s.parse(s.eof)
		if err != errNeedMore {
			return err
		}
		if err := s.fill(); err != nil {
			return err
		}
	}
}

// parse reads one record from buf[pos:end]. Unless atEOF, it returns
// errNeedMore when the record may continue past the end of the buffer; the
// caller then fills and calls again, and the record is parsed from its start.
func (s *scanner) parse(atEOF bool) error {
	buf := s.buf[:s.end]
	tab := &s.tab
	i := s.pos
	s.recStart = s.pos
	s.recLine = s.line
	s.fields = s.fields[:0]
	lines := 0 // newlines inside quoted fields of this record
	for {
		if i < len(buf) && buf[i] == '"' {
			open := i
			j := i + 1
			for {
				k := bytes.IndexByte(buf[j:], '"')
				if k < 0 {
					if !atEOF {
						return errNeedMore
					}
					line, col := s.posOf(open)
					return s.errorAt(line, col, "quoted field is not closed before the end of the file (a quote inside a quoted field is written twice: \"\")")
				}
				if seg := buf[j : j+k]; bytes.IndexByte(seg, '\n') >= 0 {
					lines += bytes.Count(seg, []byte{'\n'})
					if m := endOfDataMarker(seg); m >= 0 {
						line, _ := s.posOf(j + m)
						return s.errorAt(line, 0, `a line that is only \. ends COPY data in PostgreSQL (change or remove that line)`)
					}
				}
				j += k + 1
				if j < len(buf) && buf[j] == '"' {
					j++ // a doubled quote is a quote in the value
					continue
				}
				if j == len(buf) && !atEOF {
					return errNeedMore // the next byte may be a second quote
				}
				break
			}
			s.fields = append(s.fields, field{start: open + 1, end: j - 1, quoted: true})
			i = j
			if i == len(buf) {
				return s.endRecord(i, lines, eolUnknown)
			}
			switch buf[i] {
			case s.delim:
				i++
				continue
			case '\n', '\r':
			default:
				line, col := s.posOf(i)
				return s.errorAt(line, col, "unexpected %q after a closing quote (expected the delimiter or the end of the line)", rune(buf[i]))
			}
		} else {
			start := i
			for i < len(buf) && tab[buf[i]] == clsData {
				i++
			}
			if i == len(buf) {
				if !atEOF {
					return errNeedMore
				}
				s.fields = append(s.fields, field{start: start, end: i})
				return s.endRecord(i, lines, eolUnknown)
			}
			switch tab[buf[i]] {
			case clsDelim:
				s.fields = append(s.fields, field{start: start, end: i})
				i++
				continue
			case clsQuote:
				line, col := s.posOf(i)
				return s.errorAt(line, col, "bare \" in an unquoted field (quote the whole field and write the quote twice: \"\")")
			}
			s.fields = append(s.fields, field{start: start, end: i})
		}
		// buf[i] is '\n' or '\r': the end of the record.
		if buf[i] == '\n' {
			return s.endRecord(i+1, lines, eolLF)
		}
		if i+1 == len(buf) && !atEOF {
			return errNeedMore
		}
		if i+1 == len(buf) || buf[i+1] != '\n' {
			line, col := s.posOf(i)
			return s.errorAt(line, col, "carriage return outside quotes (end lines with \\n or \\r\\n, or quote the field)")
		}
		return s.endRecord(i+2, lines, eolCRLF)
	}
}

// endOfDataMarker returns the offset of a line in seg (text inside quotes)
// that is only `\.`, or -1.
func endOfDataMarker(seg []byte) int {
	for off := 0; ; {
		k := bytes.Index(seg[off:], []byte("\n\\."))
		if k < 0 {
			return -1
		}
		at := off + k + 1
		if rest := seg[at+2:]; len(rest) > 0 && (rest[0] == '\n' || rest[0] == '\r') {
			return at
		}
		off = at
	}
}

// endRecord consumes the record ending before next and checks its line ending.
func (s *scanner) endRecord(next, lines, eol int) error {
	if eol != eolUnknown {
		if s.eol == eolUnknown {
			s.eol = eol
		} else if eol != s.eol {
			want, got := `\n`, `\r\n`
			if s.eol == eolCRLF {
				want, got = got, want
			}
			return s.errorAt(s.recLine+lines, 0, "line ends with %s but the first line ends with %s (COPY needs one style of line ending in a file: save it with one throughout, for example with dos2unix)", got, want)
		}
	}
	if len(s.fields) == 1 && !s.fields[0].quoted && string(s.buf[s.fields[0].start:s.fields[0].end]) == `\.` {
		return s.errorAt(s.recLine, 0, `a line that is only \. ends COPY data in PostgreSQL (quote it: "\.")`)
	}
	s.pos = next
	s.line += lines
	if eol != eolUnknown {
		s.line++
	}
	return nil
}

// value returns the text of f, with doubled quotes undone.
func (s *scanner) value(f field) string {
	v := s.buf[f.start:f.end]
	if f.quoted && bytes.IndexByte(v, '"') >= 0 {
		return string(bytes.ReplaceAll(v, []byte(`""`), []byte(`"`)))
	}
	return string(v)
}

// valueAt is a value of the file and where it is.
type valueAt struct {
	line, col int
	value     string
}

// narrowed records, when s records them, that f's value narrowed the
// types column j can be.
func (s *scanner) narrowed(j int, f field) {
	if s.typedBy == nil {
		return
	}
	line, col := s.posOf(f.start - btoi(f.quoted))
	v := s.value(f)
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:40]) + "…"
	}
	s.typedBy[j] = valueAt{line: line, col: col, value: v}
}

// state is the fileState after the last record.
func (s *scanner) state(kinds []uint8, seen []bool) fileState {
	return fileState{bytes: s.read, line: s.line, eol: s.eol, open: s.read > 0 && s.last != '\n', blank: s.blank, kinds: kinds, seen: seen}
}

// blankRecord says whether the current record is a blank line: one empty
// unquoted field (a record ends with a line break or the end of the input,
// and an empty input has no record).
func (s *scanner) blankRecord() bool {
	return len(s.fields) == 1 && s.fields[0].start == s.fields[0].end && !s.fields[0].quoted
}

// trailingBlank returns the length of b without the blank lines at its
// end: a run of line breaks after the last other byte, but for the first
// line break of the run, which ends the last record. blank counts the
// lines dropped. b is the end of a file (or all of it) that the scanner
// accepts, whose last piece, if b is one, is not only line breaks
// (the splitter sees to that); then the lines dropped are exactly the
// blank records at the end that scanRows does not count as rows.
func trailingBlank(b []byte) (keep, blank int) {
	i := len(b)
	for i > 0 && (b[i-1] == '\n' || b[i-1] == '\r') {
		i--
	}
	keep = i
	switch {
	case i == len(b):
		return keep, 0
	case i == 0:
		// Only line breaks: the record before them ended with its own.
	case b[i] == '\n':
		keep = i + 1
	case b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n':
		keep = i + 2
	default:
		return len(b), 0 // a bare carriage return: the scanner refuses it
	}
	return keep, bytes.Count(b[keep:], []byte{'\n'})
}
