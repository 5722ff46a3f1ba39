package seed

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestHeader: Header reads the column names of the first row only, with the
// seed's delimiter, from .csv and .csv.gz, and refuses a header that the
// load would refuse, and a .csv.gz that is not gzipped (at the file, not at
// the absolute path opened).
func TestHeader(t *testing.T) {
	tests := []struct {
		name, text string
		delim      rune
		want       []string
		err        string
	}{
		{name: "a.csv", text: "id,amount,name\n1,2,x\n", want: []string{"id", "amount", "name"}},
		{name: "crlf.csv", text: "id,\"Größe\"\r\n1,2\r\n", want: []string{"id", "Größe"}},
		{name: "semi.csv", text: "id;amt\n1;2\n", delim: ';', want: []string{"id", "amt"}},
		{name: "bad-rows.csv", text: "id\n1,2,3\n\"unclosed\n", want: []string{"id"}},
		{name: "bbox.csv", text: "XMIN,xmin_,Ymax\n", want: []string{"XMIN", "xmin_", "Ymax"}},
		{name: "system.csv", text: "id,ctid\n", err: `seeds/system.csv:1:4: column name "ctid" is the name of a column PostgreSQL gives every table, which a table's own column cannot have (give the column another name in the header row, as ctid_)`},
		{name: "g.csv.gz", text: "a,b\n1,2\n", want: []string{"a", "b"}},
		{name: "empty.csv", text: "", err: "seeds/empty.csv: the file is empty (expected a header row with the column names)"},
		{name: "dup.csv", text: "a,a\n", err: `seeds/dup.csv:1:3: duplicate column name "a" (also column 1: give one of them another name in the header row)`},
		{name: "plain.csv.gz", text: "a,b\n1,2\n", err: "seeds/plain.csv.gz: not a gzip file, though its name ends in .gz (unexpected EOF): compress it with gzip, or name it .csv"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.text)
			if filepath.Ext(tc.name) == ".gz" && tc.err == "" {
				var b bytes.Buffer
				zw := gzip.NewWriter(&b)
				zw.Write(data)
				zw.Close()
				data = b.Bytes()
			}
			file := filepath.Join(dir, tc.name)
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Header(context.Background(), file, Options{Path: "seeds/" + tc.name, Delimiter: tc.delim})
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("got %q, %v; want error %s", got, err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestInferFileNotGzip: the load's first pass says the same of a .csv.gz
// that is not gzipped, placed at the file as the project names it.
func TestInferFileNotGzip(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain.csv.gz")
	if err := os.WriteFile(file, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := inferFile(context.Background(), file, Options{Path: "seeds/plain.csv.gz"})
	const want = "seeds/plain.csv.gz: not a gzip file, though its name ends in .gz (unexpected EOF): compress it with gzip, or name it .csv"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
