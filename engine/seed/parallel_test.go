package seed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/jackc/pgx/v5"

	"strata/engine/diag"
	"strata/engine/internal/pgtest"
	"strata/engine/pgname"
)

// recordEnds are the offsets at which the records of a CSV file end, by
// the sequential scanner; ok is false when it rejects the file.
func recordEnds(data []byte) (ends map[int]bool, ok bool) {
	s := pieceScanner(context.Background(), piece{data: data, line: 1}, "f.csv", ',', eolUnknown)
	ends = map[int]bool{0: true}
	for {
		err := s.next()
		if err == io.EOF {
			return ends, true
		}
		if err != nil {
			return nil, false
		}
		ends[s.pos] = true
	}
}

// split cuts data with a splitter of the given piece size, reading it in
// reads of one byte (the worst case for the splitter's refills).
func split(t testing.TB, data []byte, size int) []piece {
	t.Helper()
	sp := newSplitter(iotest.OneByteReader(bytes.NewReader(data)), size)
	var out []piece
	for {
		p, err := sp.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
}

// checkSplit checks the splitter's pieces of data: together they are
// data, each but the last is non-empty and ends with a line break, each
// starts on the line it says, and when the scanner accepts data, each cut
// is where one of its records ends.
func checkSplit(t testing.TB, data []byte, size int) {
	pieces := split(t, data, size)
	var joined []byte
	line := 1
	ends, valid := recordEnds(data)
	for i, p := range pieces {
		if len(p.data) == 0 {
			t.Fatalf("piece %d of %q (size %d) is empty", i, data, size)
		}
		if p.line != line {
			t.Fatalf("piece %d of %q says it starts on line %d, not %d", i, data, p.line, line)
		}
		if i < len(pieces)-1 && p.data[len(p.data)-1] != '\n' {
			t.Fatalf("piece %d of %q (size %d) does not end a line: %q", i, data, size, p.data)
		}
		// (The last piece may not know: the file ends where it does.)
		if p.last && i != len(pieces)-1 {
			t.Fatalf("piece %d of %d of %q (size %d) says it is the last", i, len(pieces), data, size)
		}
		// Blank lines at the end of the file are all in the last piece.
		if keep, _ := trailingBlank(p.data); !p.last && keep != len(p.data) && valid {
			t.Fatalf("piece %d of %q (size %d) ends with blank lines: %q", i, data, size, p.data)
		}
		joined = append(joined, p.data...)
		line += bytes.Count(p.data, []byte{'\n'})
		if valid && !ends[len(joined)] {
			t.Fatalf("%q (size %d) is cut at %d, inside a record (%q)", data, size, len(joined), p.data)
		}
	}
	if !bytes.Equal(joined, data) {
		t.Fatalf("the pieces of %q (size %d) are %q", data, size, joined)
	}
}

func TestSplitter(t *testing.T) {
	for _, data := range []string{
		"",
		"a,b\n",
		"a,b\n1,2\n3,4",
		"a,b\r\n1,\"x\r\ny\"\r\n3,4\r\n",
		"\xef\xbb\xbfa,b\n1,2\n",
		"a,b\n1,\"multi\nline\n\"\"quoted\"\"\nfield\"\n2,\"\"\n3,\"\n\"\n",
		"a\n\"" + strings.Repeat("x\n", 500) + "\"\n2\n",
		"a\n" + strings.Repeat("\"\"\"\"\n", 20),
		"a,b\n1,2\n\n",
		"a,b\n1,2\n3,4\n\n\n\n\n\n\n",
		"a,b\r\n1,2\r\n3,4\r\n\r\n\r\n\r\n",
		"a\n1\n\n\n\n2\n\n\n3\n",
		"a,b\n1,\"x\n\n\n\n\"\n\n\n",
	} {
		for _, size := range []int{1, 2, 3, 5, 8, 64, 1 << 20} {
			checkSplit(t, []byte(data), size)
		}
	}
}

// TestTrimReader: what the one-connection load sends COPY is the file
// without the blank lines at its end, as the parallel load sends the last
// piece, and the rows scanRows counts; whole or read a byte at a time.
func TestTrimReader(t *testing.T) {
	for _, tc := range []struct {
		data, want string
	}{
		{"", ""},
		{"a,b", "a,b"},
		{"a,b\n", "a,b\n"},
		{"a,b\n1,2\n\n", "a,b\n1,2\n"},
		{"a,b\n1,2\n\n\n\n", "a,b\n1,2\n"},
		{"a,b\r\n1,2\r\n\r\n\r\n", "a,b\r\n1,2\r\n"},
		{"a\n1\n\n\n2\n\n", "a\n1\n\n\n2\n"},
		{"a,b\n1,\"x\n\n\"\n\n", "a,b\n1,\"x\n\n\"\n"},
		// Rows appended to a file: only blank lines.
		{"\n\n", ""},
		{"\r\n", ""},
	} {
		for _, one := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tc.data)
			if one {
				r = iotest.OneByteReader(r)
			}
			got, err := io.ReadAll(&trimReader{r: r})
			if err != nil || string(got) != tc.want {
				t.Errorf("%q (one byte reads %v): %q %v, want %q", tc.data, one, got, err, tc.want)
			}
		}
		if tc.data == "" || tc.data[0] == '\n' || tc.data[0] == '\r' {
			continue
		}
		if keep, _ := trailingBlank([]byte(tc.data)); tc.data[:keep] != tc.want {
			t.Errorf("trailingBlank(%q) keeps %q, want %q", tc.data, tc.data[:keep], tc.want)
		}
		if err := iotest.TestReader(&trimReader{r: strings.NewReader(tc.data)}, []byte(tc.want)); err != nil {
			t.Errorf("%q: %v", tc.data, err)
		}
	}
}

// FuzzSplitter: for any input, the pieces put together are the input, and
// for any input the scanner accepts (so COPY too), no piece ends inside a
// record, quoted line breaks included.
//
//	go test -run '^$' -fuzz FuzzSplitter ./engine/seed
func FuzzSplitter(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a\r\n\"x\r\ny\"\r\n", "\"\n\"\n\"\"\"\n\"\n", "a\n\"\"\n\n", "\xef\xbb\xbfa\n1"} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		checkSplit(t, data, int(size)+1)
	})
}

// loadBoth loads content with one connection into table one and over three
// into table three, with the pieces small enough that the file is cut
// many times, and checks both tables and their records are the same. It
// returns the parallel load's result.
func loadBoth(t *testing.T, conn *pgx.Conn, name, content string, opts Options) (Result, error) {
	t.Helper()
	ctx := context.Background()
	defer func(m int64, p, s int) { parallelMin, pieceSize, sampleSize = m, p, s }(parallelMin, pieceSize, sampleSize)
	parallelMin, pieceSize, sampleSize = 0, 16, 300
	path := writeFile(t, name, content)
	opts.Path = "seeds/" + name
	opts.Parts = 1
	one, err1 := Load(ctx, conn, "public", "one", path, opts)
	opts.Parts = 3
	three, err3 := Load(ctx, conn, "public", "three", path, opts)
	if (err1 == nil) != (err3 == nil) || err1 != nil && err1.Error() != strings.ReplaceAll(err3.Error(), `"three"`, `"one"`) {
		t.Fatalf("%s: one connection: %v; three: %v", name, err1, err3)
	}
	if err3 != nil {
		return three, err3
	}
	if one.Parts != 0 {
		t.Errorf("%s: Parts 1 loaded over %d connections", name, one.Parts)
	}
	if one.Rows != three.Rows || fmt.Sprint(one.Columns) != fmt.Sprint(three.Columns) {
		t.Errorf("%s: one connection: %d rows %v; three: %d rows %v", name, one.Rows, one.Columns, three.Rows, three.Columns)
	}
	if got := dump(t, conn, "select count(*) from ((table one except all table three) union all (table three except all table one)) d"); got != "0" {
		t.Errorf("%s: the tables differ in %s rows", name, got)
	}
	if got := dump(t, conn, "select count(*) from one"); got != fmt.Sprint(one.Rows) {
		t.Errorf("%s: %s rows loaded, want %d", name, got, one.Rows)
	}
	rec := func(table string) string {
		return dump(t, conn, "select obj_description('public."+table+"'::regclass::oid::regclass::text::regtype, 'pg_type')")
	}
	if a, b := rec("one"), rec("three"); a != b {
		t.Errorf("%s: the records differ:\n%s\n%s", name, a, b)
	}
	if got := dump(t, conn, "select count(*) from pg_class where relname like '%strata_new'"); got != "0" {
		t.Errorf("%s: %s scratch tables left", name, got)
	}
	return three, nil
}

func TestParallelLoad(t *testing.T) {
	conn := connect(t)
	rows := func(n int, row func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(row(i))
		}
		return b.String()
	}
	var cols []string
	for i := range 300 {
		cols = append(cols, fmt.Sprintf("column_number_%03d", i))
	}
	wide := strings.Join(cols, ",")
	for _, tc := range []struct {
		name, content string
		parallel      bool // loaded over several connections
	}{
		{"plain.csv", "id,name,amount,day\n" + rows(200, func(i int) string {
			return fmt.Sprintf("%d,n%d,%d.5,2024-01-%02d\n", i, i, i, 1+i%28)
		}), true},
		{"quoted.csv", "id,note\n" + rows(100, func(i int) string {
			return fmt.Sprintf("%d,\"line one\nline \"\"two\"\", with a comma\n\"\n", i)
		}), true},
		{"crlf.csv", "id,note\r\n" + rows(100, func(i int) string {
			return fmt.Sprintf("%d,\"a\r\nb\"\r\n", i)
		}), true},
		{"bom.csv", "\xef\xbb\xbfid,v\n" + rows(100, func(i int) string { return fmt.Sprintf("%d,%d\n", i, i*2) }), true},
		// A header longer than the scanner's first read (4 KB), after a
		// byte order mark: the sample starts where the header ends.
		{"bom_wide.csv", "\xef\xbb\xbf" + wide + "\n" + rows(20, func(i int) string { return strings.Repeat(fmt.Sprintf("%d,", i), 299) + "x\n" }), true},
		{"no_final_newline.csv", "id,v\n" + strings.TrimSuffix(rows(100, func(i int) string { return fmt.Sprintf("%d,x\n", i) }), "\n"), true},
		// A field far longer than a piece, with line breaks in it.
		{"huge_field.csv", "id,blob\n" + rows(50, func(i int) string { return fmt.Sprintf("%d,c\n", i) }) + "50,\"" + strings.Repeat("0123456789\n", 20000) + "\"\n51,b\n" + rows(50, func(i int) string { return fmt.Sprintf("%d,c\n", i+52) }), true},
		// The sample (the first piece) says bigint, a later value numeric:
		// the parallel load gives up and the usual one loads numeric.
		{"late_numeric.csv", "id,v\n" + rows(100, func(i int) string { return fmt.Sprintf("%d,%d\n", i, i) }) + "101,1.5\n", false},
		// A later value that COPY takes as bigint but inference does not
		// (leading zeros are codes): text, as the whole file says.
		{"late_code.csv", "id,v\n" + rows(100, func(i int) string { return fmt.Sprintf("%d,%d\n", i, i+1) }) + "101,007\n", false},
		// No value in the sample: the usual load.
		{"late_values.csv", "id,v\n" + rows(100, func(i int) string { return fmt.Sprintf("%d,\n", i) }) + "101,5\n", false},
		// Blank lines at the end are not rows, however the file is cut;
		// before a row, in a seed of one column, they are NULL.
		{"blank_lines_at_the_end.csv", "id,v\n" + rows(100, func(i int) string { return fmt.Sprintf("%d,x\n", i) }) + strings.Repeat("\n", 40), true},
		{"blank_line_at_the_end.csv", "id,v\n" + rows(100, func(i int) string { return fmt.Sprintf("%d,x\n", i) }) + "\n", true},
		{"blank_lines_at_the_end_crlf.csv", "id,v\r\n" + rows(100, func(i int) string { return fmt.Sprintf("%d,x\r\n", i) }) + strings.Repeat("\r\n", 3), true},
		{"blank_lines_one_column.csv", "id\n" + rows(100, func(i int) string { return fmt.Sprintf("%d\n%s", i, strings.Repeat("\n", i%3)) }), true},
	} {
		res, err := loadBoth(t, conn, tc.name, tc.content, Options{FullRefresh: true})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := res.Parts > 1; got != tc.parallel {
			t.Errorf("%s: loaded over %d connections, want parallel %v", tc.name, res.Parts, tc.parallel)
		}
	}
}

// A malformed row after the sample fails the load as the usual load does,
// at its line, and leaves nothing behind; so does an empty file.
func TestParallelLoadErrors(t *testing.T) {
	conn := connect(t)
	var b strings.Builder
	b.WriteString("id,v\n")
	for i := range 100 {
		fmt.Fprintf(&b, "%d,x\n", i)
	}
	b.WriteString("101,a\"b\n102,y\n")
	_, err := loadBoth(t, conn, "bad.csv", b.String(), Options{FullRefresh: true})
	var d diag.Diagnostic
	if !errors.As(err, &d) || d.Pos.Line != 102 || !strings.Contains(d.Msg, "bare \"") {
		t.Errorf("bad.csv: %v", err)
	}
	_, err = loadBoth(t, conn, "empty.csv", "", Options{FullRefresh: true})
	if err == nil || !strings.Contains(err.Error(), "the file is empty") {
		t.Errorf("empty.csv: %v", err)
	}
	if got := dump(t, conn, "select count(*) from pg_class where relname like '%strata_new'"); got != "0" {
		t.Errorf("%s scratch tables left", got)
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += n
	return n, err
}

// A stray quote in an unquoted field, with no quote after it, makes the
// rest of the file look like one quoted field: the splitter gives up
// after a bounded read (maxPiece) instead of holding the rest of the file
// in memory; so it does for a record longer than maxPiece. The load then
// goes over one connection, which names the stray quote's line.
func TestSplitterBoundsAPiece(t *testing.T) {
	defer func(m int) { maxPiece = m }(maxPiece)
	maxPiece = 256
	data := "a,b\n1,x\"y\n" + strings.Repeat("2,z\n", 10000)
	r := &countingReader{r: strings.NewReader(data)}
	sp := newSplitter(r, 16)
	var err error
	for err == nil {
		var p piece
		p, err = sp.next()
		if len(p.data) > 2*maxPiece {
			t.Fatalf("a piece of %d bytes (maxPiece %d)", len(p.data), maxPiece)
		}
	}
	if !errors.Is(err, errLongRecord) || r.n > 4*maxPiece {
		t.Errorf("splitter ended with %v after reading %d bytes of %d", err, r.n, len(data))
	}

	conn := connect(t)
	_, err = loadBoth(t, conn, "stray.csv", data, Options{FullRefresh: true})
	var d diag.Diagnostic
	if !errors.As(err, &d) || d.Pos.Line != 2 || !strings.Contains(d.Msg, "bare \"") {
		t.Errorf("stray.csv: %v", err)
	}
	long := "id,blob\n" + strings.Repeat("1,c\n", 50) + "2,\"" + strings.Repeat("x\n", 300) + "\"\n" + strings.Repeat("3,c\n", 50)
	res, err := loadBoth(t, conn, "long_record.csv", long, Options{FullRefresh: true})
	if err != nil || res.Parts != 0 || res.Rows != 101 {
		t.Errorf("long_record.csv: %+v %v", res, err)
	}
}

// TestParallelLoadsOfNamesSharingTheirFirstBytes: two seeds whose names
// fit PostgreSQL's 63 bytes but share their first 55, loaded over several
// connections at once, each fill their own table. Their scratch tables
// were one (each name cut before __strata_new): the rows of one seed went
// into the other's table (200000 rows where 100000 were loaded) and the
// other failed ('renaming ...__strata_new into place: relation ... does
// not exist').
func TestParallelLoadsOfNamesSharingTheirFirstBytes(t *testing.T) {
	url := pgtest.DB(t)
	defer func(m int64, p, s int) { parallelMin, pieceSize, sampleSize = m, p, s }(parallelMin, pieceSize, sampleSize)
	parallelMin, pieceSize, sampleSize = 0, 2048, 300
	const rows = 4000
	names := []string{strings.Repeat("s", 55) + "_one_xx", strings.Repeat("s", 55) + "_two_xx"}
	paths := make([]string, len(names))
	conns := make([]*pgx.Conn, len(names))
	for i, name := range names {
		var b strings.Builder
		b.WriteString("id,seed\n")
		for r := range rows {
			fmt.Fprintf(&b, "%d,%s\n", r, name[len(name)-6:])
		}
		paths[i] = writeFile(t, name+".csv", b.String())
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		conns[i] = conn
	}
	for round := range 3 {
		var wg sync.WaitGroup
		errs := make([]error, len(names))
		results := make([]Result, len(names))
		for i, name := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = Load(context.Background(), conns[i], "public", name, paths[i], Options{Path: "seeds/" + name + ".csv", FullRefresh: true, Parts: 3})
			}()
		}
		wg.Wait()
		for i, name := range names {
			if errs[i] != nil {
				t.Fatalf("round %d: %s: %v", round, name, errs[i])
			}
			if results[i].Parts < 2 {
				t.Fatalf("round %d: %s was loaded over %d connection(s), want several", round, name, results[i].Parts)
			}
			got := dump(t, conns[0], "select count(*) || ' ' || string_agg(distinct seed, ',') from "+pgname.Rel{Schema: "public", Name: name}.Quoted())
			if want := fmt.Sprintf("%d %s", rows, name[len(name)-6:]); got != want {
				t.Errorf("round %d: %s holds %s, want %s", round, name, got, want)
			}
		}
	}
}
