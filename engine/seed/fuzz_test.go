package seed

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// records reads all records with our scanner, dropping blank lines the way
// encoding/csv does, and undoing CRLF inside quotes as encoding/csv does.
func records(r io.Reader, delim byte) ([][]string, error) {
	s := newScanner(context.Background(), r, nil, "f.csv", delim)
	var out [][]string
	for {
		err := s.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if len(s.fields) == 1 && !s.fields[0].quoted && s.fields[0].start == s.fields[0].end {
			continue
		}
		rec := make([]string, len(s.fields))
		for i, f := range s.fields {
			rec[i] = s.value(f)
			if f.quoted {
				rec[i] = strings.ReplaceAll(rec[i], "\r\n", "\n")
			}
		}
		out = append(out, rec)
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n",
		"a,b\r\n\"x\r\ny\",2\r\n",
		"a;b\n\"q\"\"q\";\n",
		"a\n\"\\.\"\n",
		"a,b\n1,\"\"\n,\n",
		"t\n2024-01-02 03:04:05+01:00\n2024-02-29\n",
		"n\n01\n-0\n1e5\n.5\n9223372036854775808\n",
		"\xef\xbb\xbfid\n1\n",
	} {
		f.Add([]byte(s), byte(','))
	}
	f.Add([]byte("a\tb\n1\t2\n"), byte('\t'))
	f.Fuzz(func(t *testing.T, data []byte, delim byte) {
		if delim == '"' || delim == '\r' || delim == '\n' || delim == 0 || delim >= 0x80 {
			delim = ','
		}
		// Never panics, whatever the input.
		_, _ = Infer(bytes.NewReader(data), Options{Delimiter: rune(delim)})
		_, _ = Infer(iotest.OneByteReader(bytes.NewReader(data)), Options{Delimiter: rune(delim)})

		got, err := records(bytes.NewReader(data), delim)
		got1, err1 := records(iotest.OneByteReader(bytes.NewReader(data)), delim)
		if (err == nil) != (err1 == nil) || (err != nil && err.Error() != err1.Error()) || !reflect.DeepEqual(got, got1) {
			t.Fatalf("one-byte reads differ:\n%q %v\n%q %v", got, err, got1, err1)
		}
		if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
			data = data[3:]
		}
		cr := csv.NewReader(bytes.NewReader(data))
		cr.Comma = rune(delim)
		cr.FieldsPerRecord = -1
		want, werr := cr.ReadAll()
		if err != nil {
			if werr == nil && !strings.Contains(err.Error(), `\.`) && !strings.Contains(err.Error(), "carriage return") && !strings.Contains(err.Error(), "line ends with") {
				t.Fatalf("we reject what encoding/csv accepts: %v\n%q", err, want)
			}
			return
		}
		if werr != nil {
			t.Fatalf("encoding/csv rejects what we accept: %v\nours: %q", werr, got)
		}
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fields differ\n got %q\nwant %q", got, want)
		}
	})
}
