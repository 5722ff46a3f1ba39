package seed

import (
	"bytes"
	"errors"
	"io"
)

// lastBoundary returns the length of the longest prefix of b that ends
// with a line break outside quotes (-1 if none), given that b starts
// outside quotes. In CSV a quote inside a quoted field is written twice,
// so a position is inside quotes exactly when an odd number of quotes
// precede it: the parity is all there is to track, and a quoted newline
// is never taken for the end of a record. (In a malformed file, a bare
// quote in an unquoted field throws the parity off; the scanner of the
// piece that holds it reports it, and it comes first.)
func lastBoundary(b []byte) int {
	cut := -1
	for i := 0; i < len(b); {
		k := bytes.IndexByte(b[i:], '"')
		seg := b[i:]
		if k >= 0 {
			seg = b[i : i+k]
		}
		if n := bytes.LastIndexByte(seg, '\n'); n >= 0 {
			cut = i + n + 1
		}
		if k < 0 {
			return cut
		}
		// Skip the quoted part, up to its closing quote (a doubled quote
		// closes and reopens it, which changes nothing).
		i += k + 1
		k = bytes.IndexByte(b[i:], '"')
		if k < 0 {
			return cut
		}
		i += k + 1
	}
	return cut
}

// piece is a run of whole records of a CSV file: data, whose first byte is
// on the file's physical line line.
type piece struct {
	data []byte
	line int
	// checked: the scanner has read it already (the sample).
	checked bool
	// last: the file ends with the piece (it may end with blank lines,
	// which are not rows: trailingBlank). A piece before the last ends
	// with a record that is not a blank line.
	last bool
}

// splitter cuts a CSV stream into pieces of whole records of about size
// bytes (longer when one record is), reading it once: every byte goes
// through read (which hashes and counts it) exactly once.
type splitter struct {
	r    io.Reader
	size int
	// max bounds a piece (maxPiece): a record longer than that, or a
	// stray quote that makes the rest of the file look like one quoted
	// field, ends the splitting with errLongRecord instead of holding the
	// rest of the file in memory.
	max  int
	rest []byte // read, not yet handed out: the start of the next piece
	line int
	eof  bool
}

func newSplitter(r io.Reader, size int) *splitter {
	return &splitter{r: r, size: size, max: maxPiece, line: 1}
}

// errLongRecord: a record (as the quotes say) is longer than a piece may be.
var errLongRecord = errors.New("a record longer than a piece may be")

// next returns the next piece, or io.EOF after the last. The last piece
// may end without a line break (the file's last record).
func (s *splitter) next() (piece, error) {
	if s.eof && len(s.rest) == 0 {
		return piece{}, io.EOF
	}
	buf := make([]byte, len(s.rest), max(s.size, 2*len(s.rest)))
	copy(buf, s.rest)
	for {
		for !s.eof && len(buf) < cap(buf) {
			n, err := s.r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				s.eof = true
			} else if err != nil {
				return piece{}, err
			}
		}
		if s.eof {
			if len(buf) == 0 {
				return piece{}, io.EOF
			}
			p := s.emit(buf, len(buf))
			p.last = true
			return p, nil
		}
		// Searched from the start, since where quotes open is only known
		// from there.
		if cut := beforeBlank(buf, lastBoundary(buf)); cut > 0 {
			return s.emit(buf, cut), nil
		}
		// One record fills the buffer: grow it.
		if s.max > 0 && cap(buf) >= s.max {
			return piece{}, errLongRecord
		}
		nb := make([]byte, len(buf), 2*cap(buf))
		copy(nb, buf)
		buf = nb
	}
}

// beforeBlank moves a cut at the end of a line (outside quotes) back
// before the blank lines that precede it, if any: they go to the next
// piece, so that blank lines at the end of the file are all in the last
// piece, and a piece that ends with blank lines is the last. It returns
// -1 when buf[:cut] is only line breaks.
func beforeBlank(buf []byte, cut int) int {
	if cut <= 0 {
		return cut
	}
	keep, _ := trailingBlank(buf[:cut])
	if keep == 0 {
		return -1
	}
	return keep
}

// emit hands out buf[:cut] and keeps the rest for the next piece.
func (s *splitter) emit(buf []byte, cut int) piece {
	p := piece{data: buf[:cut:cut], line: s.line}
	s.line += bytes.Count(p.data, []byte{'\n'})
	s.rest = append(s.rest[:0:0], buf[cut:]...)
	return p
}
