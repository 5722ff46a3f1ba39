package seed

import (
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"strata/engine/pgname"

	"github.com/jackc/pgx/v5"
)

// writeSeed writes content to dir/name, gzipped when name ends in ".gz".
func writeSeed(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".gz") {
		zw := gzip.NewWriter(f)
		if _, err := zw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	} else if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// inferString infers the schema of content. What made each column its
// type (typedBy) is left out: only a whole load's inference reads it, for
// its message when views cannot be recreated, and an append plan, which
// reads the new rows only, has none.
func inferString(t testing.TB, content string, opts Options) (Schema, error) {
	t.Helper()
	sc, err := Infer(strings.NewReader(content), opts)
	sc.typedBy = nil
	return sc, err
}

// TestContinues checks the decision between append and full load, and that
// an append plan describes the new file exactly as inference over the whole
// file does.
func TestContinues(t *testing.T) {
	const full = -1
	tests := []struct {
		name     string
		old, new string
		oldOpts  *Options // nil: the same as the new load's
		opts     Options
		want     int // rows appended, full, or 0 with unchanged
		same     bool
		tailLine int
	}{
		{name: "unchanged", old: "id,v\n1,a\n", new: "id,v\n1,a\n", same: true},
		{name: "append", old: "id,v\n1,a\n", new: "id,v\n1,a\n2,b\n3,c\n", want: 2, tailLine: 3},
		{name: "append crlf", old: "id,v\r\n1,a\r\n", new: "id,v\r\n1,a\r\n2,b\r\n", want: 1, tailLine: 3},
		{name: "append to header only", old: "id,v\n", new: "id,v\nx,a\n", want: 1, tailLine: 2},
		{name: "header only, then a number", old: "id,v\n", new: "id,v\n1,a\n", want: full},
		{name: "prefix edited", old: "id,v\n1,a\n", new: "id,v\n1,x\n2,b\n", want: full},
		{name: "shrank", old: "id,v\n1,a\n2,b\n", new: "id,v\n1,a\n", want: full},
		{name: "bigint to numeric", old: "id\n1\n", new: "id\n1\n1.5\n", want: full},
		{name: "bigint to text", old: "id\n1\n", new: "id\n1\nx\n", want: full},
		{name: "date to timestamp", old: "d\n2024-01-01\n", new: "d\n2024-01-01\n2024-01-02 10:00\n", want: full},
		{name: "timestamp stays with a date", old: "d\n2024-01-01 10:00\n", new: "d\n2024-01-01 10:00\n2024-01-02\n", want: 1, tailLine: 3},
		{name: "numeric stays with an integer", old: "n\n1.5\n", new: "n\n1.5\n2\n", want: 1, tailLine: 3},
		{name: "empty column gets a value", old: "id,v\n1,\n", new: "id,v\n1,\n2,5\n", want: full},
		{name: "empty string keeps text", old: "id,v\n1,\"\"\n", new: "id,v\n1,\"\"\n2,5\n", want: 1, tailLine: 3},
		{name: "new column in the tail", old: "id\n1\n", new: "id\n1\n2,3\n", want: full},
		{name: "column_types over a widened column", old: "id\n1\n", new: "id\n1\n1.5\n", opts: Options{ColumnTypes: map[string]string{"id": "numeric"}}, want: 1, tailLine: 3},
		{name: "column_types changed", old: "id\n1\n", new: "id\n1\n2\n", oldOpts: &Options{}, opts: Options{ColumnTypes: map[string]string{"id": "int"}}, want: full},
		{name: "delimiter changed", old: "id\n1\n", new: "id\n1\n2\n", oldOpts: &Options{Delimiter: ';'}, want: full},
		{name: "after blank lines at the end", old: "id\n1\n\n", new: "id\n1\n\n2\n", want: full},
		{name: "blank lines appended", old: "id\n1\n", new: "id\n1\n2\n\n\n", want: 1, tailLine: 3},
		{name: "old ends without a line break", old: "id,v\n1,a", new: "id,v\n1,a\n2,b\n", want: 1, tailLine: 3},
		{name: "old ends without a line break, only one added", old: "id,v\n1,a", new: "id,v\n1,a\n", want: 0, tailLine: 3},
		{name: "old last value extended", old: "id,v\n1,a", new: "id,v\n1,ab\n2,b\n", want: full},
		{name: "old last quoted value extended", old: "id,v\n1,\"a\"", new: "id,v\n1,\"a\"\"b\"\n", want: full},
		{name: "old last quoted value ended", old: "id,v\n1,\"a\"", new: "id,v\n1,\"a\"\n2,b\n", want: 1, tailLine: 3},
		{name: "old ends without a line break, crlf", old: "id,v\r\n1,a", new: "id,v\r\n1,a\r\n2,b\r\n", want: 1, tailLine: 3},
		{name: "old ends without a line break, other style", old: "id,v\r\n1,a", new: "id,v\r\n1,a\n2,b\n", want: full},
		{name: "header only without a line break", old: "id,v", new: "id,v\r\nx,a\r\n", want: 1, tailLine: 2},
		{name: "quoted newlines both sides", old: "id,v\n1,\"a\nb\"\n", new: "id,v\n1,\"a\nb\"\n2,\"c\r\nd\"\n3,e\n", want: 2, tailLine: 4},
		{name: "line ending changes in the tail", old: "id,v\n1,a\n", new: "id,v\n1,a\n2,b\r\n", want: full},
		{name: "end-of-data marker in the tail", old: "v\na\n", new: "v\na\n\\.\n", want: full},
		{name: "byte order mark", old: "\xef\xbb\xbfid\n1\n", new: "\xef\xbb\xbfid\n1\n2\n", want: 1, tailLine: 3},
		{name: "byte order mark bytes in the tail", old: "v\nx\n", new: "v\nx\n\xef\xbb\xbfy\n", want: 1, tailLine: 3},
		{name: "unclosed quote in the tail", old: "v\nx\n", new: "v\nx\n\"y\n", want: full},
	}
	for _, tt := range tests {
		for _, ext := range []string{".csv", ".csv.gz"} {
			t.Run(tt.name+ext, func(t *testing.T) {
				oldOpts := tt.opts
				if tt.oldOpts != nil {
					oldOpts = *tt.oldOpts
				}
				oldSc, err := inferString(t, tt.old, oldOpts)
				if err != nil {
					t.Fatal(err)
				}
				comment := encodeComment(oldSc)
				if rec, ok := parseComment(comment); !ok || rec.Checksum != oldSc.Checksum || rec.Bytes != int64(len(tt.old)) {
					t.Fatalf("comment %q does not parse back: %+v", comment, rec)
				}
				file := writeSeed(t, t.TempDir(), "s"+ext, tt.new)
				delim, _ := delimiterByte(tt.opts.Delimiter)
				p, err := continues(context.Background(), comment, file, delim, tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == full {
					if p != nil {
						t.Fatalf("got a plan (unchanged=%v, %d rows appended), want a full load", p.unchanged, p.tailRows)
					}
					return
				}
				if p == nil {
					t.Fatal("no plan, want an append")
				}
				if p.unchanged != tt.same {
					t.Fatalf("unchanged = %v", p.unchanged)
				}
				if tt.same {
					return
				}
				if p.tailRows != int64(tt.want) || p.tailLine != tt.tailLine {
					t.Errorf("appends %d rows from line %d, want %d from %d", p.tailRows, p.tailLine, tt.want, tt.tailLine)
				}
				if !strings.HasPrefix(tt.new[p.tailOff:], strings.TrimLeft(tt.new[len(tt.old):], "\r\n")) || p.tailOff < int64(len(tt.old)) {
					t.Errorf("tail starts at %d: %q", p.tailOff, tt.new[p.tailOff:])
				}
				whole, err := inferString(t, tt.new, tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(p.sc, whole) {
					t.Errorf("plan's schema\n%+v\nwant inference over the whole file\n%+v", p.sc, whole)
				}
			})
		}
	}
}

func TestParseComment(t *testing.T) {
	const content = "a,\"b \"\"q\"\" <&>\"\n1,x\n"
	sc, err := inferString(t, content, Options{})
	if err != nil {
		t.Fatal(err)
	}
	v2 := encodeComment(sc)
	tests := []struct {
		comment string
		ok      bool
		bytes   int64
	}{
		{v2, true, int64(len(content))},
		{"strata seed " + sc.Checksum, true, 0}, // v1: unchanged or not, never appended
		{"", false, 0},
		{"a description", false, 0},
		{"strata seed v2 {}", false, 0},
		{"strata seed v2 " + strings.Replace(v2[len(commentV2):], `"bytes":20`, `"bytes":-1`, 1), false, 0},
		{v2 + " trailing", false, 0},
		{strings.Replace(v2, `"rows"`, `"rowz"`, 1), false, 0},
		{strings.Replace(v2, `"eol":"lf"`, `"eol":"cr"`, 1), false, 0},
		{strings.Replace(v2, `"kinds":3`, `"kinds":255`, 1), false, 0},
		{"strata seed v3 {}", false, 0},
	}
	for _, tt := range tests {
		rec, ok := parseComment(tt.comment)
		if ok != tt.ok || rec.Bytes != tt.bytes {
			t.Errorf("parseComment(%q) = %+v, %v; want ok=%v bytes=%d", tt.comment, rec, ok, tt.ok, tt.bytes)
		}
	}
	if rec, _ := parseComment(v2); rec.Columns[1].Name != `b "q" <&>` || rec.Columns[0].Type != TypeBigint {
		t.Errorf("columns = %+v", rec.Columns)
	}
}

// FuzzAppend checks that an append plan agrees with inference over the
// whole new file, and that a file ending in a line break followed by rows
// that leave the types as they were is always appended.
func FuzzAppend(f *testing.F) {
	for _, s := range [][2]string{
		{"a,b\n1,2\n", "3,4\n"},
		{"a,b\r\n\"x\r\ny\",2\r\n", "\"p\",\r\n"},
		{"a\n1", "\n2\n"},
		{"a\n1", "2\n"},
		{"a\n\"q\"", "\"\"\n"},
		{"t\n2024-01-02\n", "2024-01-03 10:00\n"},
		{"\xef\xbb\xbfid\n1\n", "2\n"},
		{"a\n1\n\n", "2\n"},
		{"a,b\n1,2\n", "3,4\n\n\n"},
		{"a\n1\n", "\n"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, old, tail string) {
		oldSc, err := inferString(t, old, Options{})
		if err != nil {
			return
		}
		file := writeSeed(t, t.TempDir(), "s.csv", old+tail)
		p, err := continues(context.Background(), encodeComment(oldSc), file, ',', Options{})
		if err != nil {
			t.Fatal(err)
		}
		whole, werr := inferString(t, old+tail, Options{})
		if p != nil {
			if werr != nil {
				t.Fatalf("planned an append of a file inference rejects: %v", werr)
			}
			if !reflect.DeepEqual(p.sc, whole) {
				t.Fatalf("plan's schema\n%+v\nwant\n%+v", p.sc, whole)
			}
			return
		}
		// (Blank lines at the old end are not at the end any more.)
		if werr == nil && reflect.DeepEqual(columnTypes(whole), columnTypes(oldSc)) && strings.HasSuffix(old, "\n") && oldSc.state.blank == 0 {
			t.Fatalf("no plan for an append that keeps the types")
		}
	})
}

func columnTypes(sc Schema) []Column { return sc.Columns }

// seedTable loads content into public.<table> from a file named like the
// table, returning the result; tables are compared with reference.
type seedTable struct {
	t     *testing.T
	conn  *pgx.Conn
	dir   string
	table string
	ext   string
}

func newSeedTable(t *testing.T, conn *pgx.Conn, table, ext string) *seedTable {
	return &seedTable{t: t, conn: conn, dir: t.TempDir(), table: table, ext: ext}
}

func (s *seedTable) load(content string, opts Options) (Result, error) {
	s.t.Helper()
	file := writeSeed(s.t, s.dir, s.table+s.ext, content)
	opts.Path = "seeds/" + s.table + s.ext
	return Load(context.Background(), s.conn, "public", s.table, file, opts)
}

func (s *seedTable) mustLoad(content string, opts Options) Result {
	s.t.Helper()
	res, err := s.load(content, opts)
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

// oid identifies the table: a full load replaces it, an append keeps it.
func (s *seedTable) oid() string {
	s.t.Helper()
	return dump(s.t, s.conn, "select '"+s.table+"'::regclass::oid")
}

// rowVersions lists the physical row versions: appending leaves the old
// ones where they were.
func (s *seedTable) rowVersions() string {
	s.t.Helper()
	return dump(s.t, s.conn, "select ctid::text, xmin::text from "+pgx.Identifier{s.table}.Sanitize()+" order by ctid")
}

// sameAsFullLoad loads the file again into a fresh table and checks that it
// holds the same rows and columns as the seed's table.
func (s *seedTable) sameAsFullLoad(content string, opts Options) {
	s.t.Helper()
	ref := s.table + "_ref"
	file := writeSeed(s.t, s.dir, ref+s.ext, content)
	opts.Path, opts.FullRefresh = "seeds/"+ref+s.ext, true
	if _, err := Load(context.Background(), s.conn, "public", ref, file, opts); err != nil {
		s.t.Fatal(err)
	}
	if a, b := columnsOf(s.t, s.conn, "public", s.table), columnsOf(s.t, s.conn, "public", ref); a != b {
		s.t.Errorf("columns:\n%s\nwant (full load):\n%s", a, b)
	}
	q := fmt.Sprintf("select count(*) from ((table %[1]s except all table %[2]s) union all (table %[2]s except all table %[1]s)) d", pgx.Identifier{s.table}.Sanitize(), pgx.Identifier{ref}.Sanitize())
	if n := dump(s.t, s.conn, q); n != "0" {
		s.t.Errorf("%s rows differ from a full load of the same file", n)
	}
	if a, b := dump(s.t, s.conn, "select count(*) from "+pgx.Identifier{s.table}.Sanitize()), dump(s.t, s.conn, "select count(*) from "+pgx.Identifier{ref}.Sanitize()); a != b {
		s.t.Errorf("%s rows, want %s", a, b)
	}
}

func TestLoadAppend(t *testing.T) {
	conn := connect(t)
	type step struct {
		content string
		opts    Options
		want    string // "append N", "full", "skip"
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"lf", []step{
			{"id,v,at\n1,a,2024-01-01\n2,b,2024-01-02\n", Options{}, "full"},
			{"id,v,at\n1,a,2024-01-01\n2,b,2024-01-02\n", Options{}, "skip"},
			{"id,v,at\n1,a,2024-01-01\n2,b,2024-01-02\n3,c,2024-01-03\n4,,\n", Options{}, "append 2"},
			{"id,v,at\n1,a,2024-01-01\n2,b,2024-01-02\n3,c,2024-01-03\n4,,\n5,e,2024-01-05\n", Options{}, "append 1"},
		}},
		{"crlf", []step{
			{"id,v\r\n1,a\r\n", Options{}, "full"},
			{"id,v\r\n1,a\r\n2,b\r\n3,c\r\n", Options{}, "append 2"},
		}},
		{"prefix edited", []step{
			{"id,v\n1,a\n2,b\n", Options{}, "full"},
			{"id,v\n1,a\n2,B\n3,c\n", Options{}, "full"},
		}},
		{"bigint becomes numeric", []step{
			{"id,n\n1,10\n", Options{}, "full"},
			{"id,n\n1,10\n2,10.5\n", Options{}, "full"},
			{"id,n\n1,10\n2,10.5\n3,7\n", Options{}, "append 1"},
		}},
		{"bigint becomes text", []step{
			{"id,n\n1,10\n", Options{}, "full"},
			{"id,n\n1,10\n2,n/a\n", Options{}, "full"},
		}},
		{"shrank", []step{
			{"id\n1\n2\n3\n", Options{}, "full"},
			{"id\n1\n2\n", Options{}, "full"},
		}},
		{"no line break at the old end", []step{
			{"id,v\n1,a\n2,b", Options{}, "full"},
			{"id,v\n1,a\n2,b\n3,c\n", Options{}, "append 1"},
		}},
		{"old last value extended", []step{
			{"id,v\n1,a\n2,b", Options{}, "full"},
			{"id,v\n1,a\n2,bb\n3,c\n", Options{}, "full"},
		}},
		{"quoted newlines", []step{
			{"id,v\n1,\"a\nb\"\n", Options{}, "full"},
			{"id,v\n1,\"a\nb\"\n2,\"c\n\n,d\"\n3,\"\"\n", Options{}, "append 2"},
		}},
		{"full refresh", []step{
			{"id\n1\n", Options{}, "full"},
			{"id\n1\n2\n", Options{FullRefresh: true}, "full"},
			{"id\n1\n2\n", Options{FullRefresh: true}, "full"},
		}},
		// Blank lines at the end are not rows: rows appended after them
		// would make them rows (or errors), so the load is a full one.
		{"blank lines at the end", []step{
			{"id,v\n1,a\n\n", Options{}, "full"},
			{"id,v\n1,a\n\n", Options{}, "skip"},
			{"id,v\n1,a\n2,b\n\n\n", Options{}, "full"},
			{"id,v\n1,a\n2,b\n3,c\n", Options{}, "full"},
			{"id,v\n1,a\n2,b\n3,c\n\n", Options{}, "append 0"},
		}},
		{"blank lines appended", []step{
			{"id,v\r\n1,a\r\n", Options{}, "full"},
			{"id,v\r\n1,a\r\n2,b\r\n\r\n\r\n", Options{}, "append 1"},
		}},
		{"blank lines one column", []step{
			{"id\n1\n", Options{}, "full"},
			{"id\n1\n\n", Options{}, "append 0"},
			{"id\n1\n\n2\n\n", Options{}, "full"},
		}},
		{"column_types", []step{
			{"id,n\n1,10\n", Options{ColumnTypes: map[string]string{"n": "numeric(6,1)"}}, "full"},
			{"id,n\n1,10\n2,2.5\n", Options{ColumnTypes: map[string]string{"n": "numeric(6,1)"}}, "append 1"},
			{"id,n\n1,10\n2,2.5\n3,1\n", Options{ColumnTypes: map[string]string{"n": "numeric(7,1)"}}, "full"},
		}},
	}
	for _, tt := range tests {
		for _, ext := range []string{".csv", ".csv.gz"} {
			t.Run(tt.name+ext, func(t *testing.T) {
				s := newSeedTable(t, conn, "s_"+strings.ReplaceAll(tt.name, " ", "_")+strings.ReplaceAll(ext, ".", "_"), ext)
				for i, st := range tt.steps {
					oid, versions := "", ""
					if i > 0 {
						oid, versions = s.oid(), s.rowVersions()
					}
					res := s.mustLoad(st.content, st.opts)
					got := "full"
					switch {
					case res.Skipped:
						got = "skip"
					case res.Appended:
						got = fmt.Sprintf("append %d", res.AppendedRows)
					}
					if got != st.want {
						t.Fatalf("step %d: %s, want %s (%+v)", i, got, st.want, res)
					}
					if want, _ := inferString(t, st.content, st.opts); res.Rows != want.Rows || !reflect.DeepEqual(res.Columns, want.Columns) {
						t.Errorf("step %d: result %+v, want %d rows, columns %+v", i, res, want.Rows, want.Columns)
					}
					if got != "full" {
						if s.oid() != oid {
							t.Errorf("step %d: the table was replaced", i)
						}
						if after := s.rowVersions(); !strings.HasPrefix(after, versions) {
							t.Errorf("step %d: old rows changed:\n%s\nnow\n%s", i, versions, after)
						}
					} else if i > 0 && s.oid() == oid {
						t.Errorf("step %d: the table was not replaced", i)
					}
					s.sameAsFullLoad(st.content, st.opts)
				}
			})
		}
	}
}

// TestLoadAppendCopiesOnlyNewRows counts the rows written with a trigger.
func TestLoadAppendCopiesOnlyNewRows(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	s := newSeedTable(t, conn, "hist", ".csv")
	var b strings.Builder
	b.WriteString("id,amount\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "%d,%d.25\n", i, i)
	}
	s.mustLoad(b.String(), Options{})
	if _, err := conn.Exec(ctx, `
		create table inserts (n bigint);
		insert into inserts values (0);
		create function count_insert() returns trigger language plpgsql as $$
		begin update inserts set n = n + 1; return null; end $$;
		create trigger count_insert after insert on hist for each row execute function count_insert();`); err != nil {
		t.Fatal(err)
	}
	for i := 1000; i < 1020; i++ {
		fmt.Fprintf(&b, "%d,%d.5\n", i, i)
	}
	res := s.mustLoad(b.String(), Options{})
	if !res.Appended || res.AppendedRows != 20 || res.Rows != 1020 {
		t.Fatalf("result %+v", res)
	}
	if n := dump(t, conn, "select n from inserts"); n != "20" {
		t.Errorf("%s rows inserted, want 20", n)
	}
	if n := dump(t, conn, "select count(*), sum(amount)::text from hist"); n != "1020|519950.00" {
		t.Errorf("count, sum = %s", n)
	}
	want, _ := inferString(t, b.String(), Options{})
	if c := dump(t, conn, "select obj_description('hist'::regtype, 'pg_type')"); c != encodeComment(want) {
		t.Errorf("comment = %q\nwant %q", c, encodeComment(want))
	}
}

// TestLoadAppendDependentView appends under a view, which stays.
func TestLoadAppendDependentView(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	s := newSeedTable(t, conn, "c", ".csv")
	s.mustLoad("id,name\n1,a\n", Options{})
	if _, err := conn.Exec(ctx, "create view v as select * from c"); err != nil {
		t.Fatal(err)
	}
	if res := s.mustLoad("id,name\n1,a\n2,b\n", Options{}); !res.Appended {
		t.Errorf("not appended: %+v", res)
	}
	if got := dump(t, conn, "select * from v order by id"); got != "1|a\n2|b" {
		t.Errorf("view reads %q", got)
	}
	// A changed prefix with the same columns: truncated and refilled in place.
	if res := s.mustLoad("id,name\n1,x\n2,b\n3,c\n", Options{}); res.Appended || res.Skipped {
		t.Errorf("result %+v", res)
	}
	if got := dump(t, conn, "select * from v order by id"); got != "1|x\n2|b\n3|c" {
		t.Errorf("view reads %q", got)
	}
	// Appended rows that change a type: the table is replaced, the view recreated.
	if res := s.mustLoad("id,name\n1,x\n2,b\n3,c\nfour,d\n", Options{}); res.Appended || res.Skipped {
		t.Errorf("result %+v", res)
	}
	if got := dump(t, conn, "select id from v order by id"); got != "1\n2\n3\nfour" {
		t.Errorf("view reads %q", got)
	}
}

// TestLoadAppendErrors: a bad appended value is placed on its line and
// leaves the table as it was; a table changed meanwhile is loaded in full.
func TestLoadAppendErrors(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	s := newSeedTable(t, conn, "x", ".csv")
	opts := Options{ColumnTypes: map[string]string{"id": "smallint"}}
	s.mustLoad("name,id\n\"a\nb\",1\n", opts)
	_, err := s.load("name,id\n\"a\nb\",1\n\"c\nd\",2\n\"e\nf\",99999\n", opts)
	want := `seeds/x.csv:7:4: column "id": value "99999" is out of range for type smallint`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if got := dump(t, conn, "select count(*) from x"); got != "1" {
		t.Errorf("%s rows", got)
	}

	// A CSV error in the appended rows is reported like in a full load.
	_, err = s.load("name,id\n\"a\nb\",1\nc,2,3\n", opts)
	if err == nil || err.Error() != "seeds/x.csv:4:5: row has 3 fields, the header has 2 (a value that holds the delimiter \",\" must be quoted, as in \"1,5\"; or set the seed's delimiter, if the file uses another)" {
		t.Errorf("err = %v", err)
	}

	// A blank line that rows follow is an error, at its line, also when
	// it was at the end of the file the table was loaded from.
	s.mustLoad("name,id\n\"a\nb\",1\n\n", opts)
	_, err = s.load("name,id\n\"a\nb\",1\n\nc,2\n", opts)
	if err == nil || err.Error() != "seeds/x.csv:4: blank line (expected 2 fields like the header; remove the line: blank lines are ignored only at the end of the file)" {
		t.Errorf("err = %v", err)
	}

	// A record changed by someone else means a full load.
	if _, err := conn.Exec(ctx, "comment on type x is 'mine'"); err != nil {
		t.Fatal(err)
	}
	if res := s.mustLoad("name,id\n\"a\nb\",1\n\"c\nd\",2\n", opts); res.Appended || res.Skipped || res.Rows != 2 {
		t.Errorf("result %+v", res)
	}
}

// TestLoadUpgradesV1Comment: a table loaded by an older strata, with the
// same file, is kept and its comment rewritten for later appends.
func TestLoadUpgradesV1Comment(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	s := newSeedTable(t, conn, "old", ".csv")
	const content = "id\n1\n"
	s.mustLoad(content, Options{})
	sc, _ := inferString(t, content, Options{})
	if _, err := conn.Exec(ctx, "comment on type old is null; comment on table old is "+pgname.Literal(commentPrefix+sc.Checksum)); err != nil {
		t.Fatal(err)
	}
	oid := s.oid()
	if res := s.mustLoad(content, Options{}); !res.Skipped {
		t.Errorf("not skipped: %+v", res)
	}
	if s.oid() != oid {
		t.Error("replaced")
	}
	if c := dump(t, conn, "select obj_description('old'::regclass, 'pg_class')"); c != "<null>" {
		t.Errorf("the v1 record was left in the table's comment: %q", c)
	}
	if res := s.mustLoad(content+"2\n", Options{}); !res.Appended {
		t.Errorf("not appended: %+v", res)
	}
}

// TestLoadKeepsDescription: the runner sets the table's comment to the
// seed's description after each load; the record is elsewhere, so the next
// load still skips or appends, and leaves the description alone.
func TestLoadKeepsDescription(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	s := newSeedTable(t, conn, "described", ".csv")
	s.mustLoad("id\n1\n", Options{})
	if _, err := conn.Exec(ctx, "comment on table described is 'Order history.'"); err != nil {
		t.Fatal(err)
	}
	if res := s.mustLoad("id\n1\n", Options{}); !res.Skipped {
		t.Errorf("not skipped: %+v", res)
	}
	if res := s.mustLoad("id\n1\n2\n", Options{}); !res.Appended {
		t.Errorf("not appended: %+v", res)
	}
	if c := dump(t, conn, "select obj_description('described'::regclass, 'pg_class')"); c != "Order history." {
		t.Errorf("description = %q", c)
	}
}
