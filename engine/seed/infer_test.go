package seed

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"

	"strata/engine/diag"
	"strata/engine/project"
)

func types(s Schema) string {
	var b strings.Builder
	for i, c := range s.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", c.Name, c.Type)
	}
	return b.String()
}

func TestInferTypes(t *testing.T) {
	tests := []struct {
		name string
		csv  string
		opts Options
		want string
		rows int64
	}{
		{"bigint", "a\n1\n-2\n+3\n0\n-0\n9223372036854775807\n-9223372036854775808\n", Options{}, "a bigint", 7},
		{"int64 overflow is numeric", "a\n1\n9223372036854775808\n", Options{}, "a numeric", 2},
		{"negative overflow is numeric", "a\n-9223372036854775809\n", Options{}, "a numeric", 1},
		{"leading zero is text", "zip\n01234\n12345\n", Options{}, "zip text", 2},
		{"negative leading zero is text", "a\n-01\n", Options{}, "a text", 1},
		{"leading zero decimal is text", "a\n007.5\n", Options{}, "a text", 1},
		{"zero point five", "a\n0.5\n", Options{}, "a numeric", 1},
		{"numeric", "a\n1\n1.5\n-.5\n5.\n1e3\n2.5E-7\n+1.0\n", Options{}, "a numeric", 7},
		{"huge exponent is text", "a\n1e1001\n", Options{}, "a text", 1},
		{"bare sign or dot is text", "a\n-\n", Options{}, "a text", 1},
		{"dot is text", "a\n.\n", Options{}, "a text", 1},
		{"nan is text", "a\nNaN\n", Options{}, "a text", 1},
		{"underscore is text", "a\n1_000\n", Options{}, "a text", 1},
		{"space is text", "a\n 1\n", Options{}, "a text", 1},
		{"boolean", "a\ntrue\nFALSE\nt\nF\nyes\nNo\n", Options{}, "a boolean", 6},
		{"y/n is text", "a\ny\nn\n", Options{}, "a text", 2},
		{"1/0 is bigint", "a\n1\n0\n", Options{}, "a bigint", 2},
		{"bool and int is text", "a\ntrue\n1\n", Options{}, "a text", 2},
		{"date", "d\n2024-01-02\n2024-02-29\n0001-12-31\n", Options{}, "d date", 3},
		{"not a leap year", "d\n2023-02-29\n", Options{}, "d text", 1},
		{"bad month", "d\n2024-13-01\n", Options{}, "d text", 1},
		{"year zero", "d\n0000-01-01\n", Options{}, "d text", 1},
		{"short date is text", "d\n2024-1-2\n", Options{}, "d text", 1},
		{"timestamp", "t\n2024-01-02 03:04:05\n2024-01-02T03:04\n2024-01-02 23:59:59.123456\n", Options{}, "t timestamp", 3},
		{"date and timestamp", "t\n2024-01-02\n2024-01-02 03:04:05\n", Options{}, "t timestamp", 2},
		{"timestamptz", "t\n2024-01-02 03:04:05Z\n2024-01-02T03:04:05+02\n2024-01-02 03:04:05.5-05:30\n2024-01-02 03:04+0100\n", Options{}, "t timestamptz", 4},
		{"zone and no zone is text", "t\n2024-01-02 03:04:05Z\n2024-01-02 03:04:05\n", Options{}, "t text", 2},
		{"date and timestamptz is text", "t\n2024-01-02\n2024-01-02 03:04:05Z\n", Options{}, "t text", 2},
		{"hour 24 is text", "t\n2024-01-02 24:00:00\n", Options{}, "t text", 1},
		{"bad zone is text", "t\n2024-01-02 03:04:05+1\n", Options{}, "t text", 1},
		{"text", "a\nhello\n", Options{}, "a text", 1},
		{"all empty is text", "a,b\n,1\n,2\n", Options{}, "a text, b bigint", 2},
		{"no rows is text", "a,b\n", Options{}, "a text, b text", 0},
		{"empty is null", "a\n1\n\n2\n", Options{}, "a bigint", 3},
		{"quoted empty is an empty string", "a,b\n1,\"\"\n2,3\n", Options{}, "a bigint, b text", 2},
		{"quoted number", "a\n\"12\"\n", Options{}, "a bigint", 1},
		{"quoted with quote", "a\n\"1\"\"2\"\n", Options{}, "a text", 1},
		{"no final newline", "a,b\n1,x", Options{}, "a bigint, b text", 1},
		{"crlf", "a,b\r\n1,2024-01-01\r\n2,2024-01-02\r\n", Options{}, "a bigint, b date", 2},
		{"quoted newline", "a,b\n\"x\ny\",1\n\"p\r\nq\",2\n", Options{}, "a text, b bigint", 2},
		{"non-ascii header", "größe,名前,\"a b\"\n1,x,2\n", Options{}, "größe bigint, 名前 text, a b bigint", 1},
		{"bom", "\xef\xbb\xbfid,x\n1,2\n", Options{}, "id bigint, x bigint", 1},
		{"delimiter", "a;b\n1,5;x\n", Options{Delimiter: ';'}, "a text, b text", 1},
		{"tab delimiter", "a\tb\n1\t2.5\n", Options{Delimiter: '\t'}, "a bigint, b numeric", 1},
		{"override", "a,b\n1,2\n", Options{ColumnTypes: map[string]string{"a": "numeric(12, 2)", "b": " varchar(20) "}}, "a numeric(12, 2), b varchar(20)", 1},
		{"override array and zone", "a\n1\n", Options{ColumnTypes: map[string]string{"a": "timestamp(3) with time zone[]"}}, "a timestamp(3) with time zone[]", 1},
		{"escaped quote value", "a\n\"he said \"\"hi\"\"\"\n", Options{}, "a text", 1},
		{"backslash dot quoted", "a\n\"\\.\"\n", Options{}, "a text", 1},
		// Blank lines at the end of the file are not rows; before a row,
		// in a seed of one column, they are NULL (as COPY loads them).
		{"blank line at the end", "a,b\n1,2\n\n", Options{}, "a bigint, b bigint", 1},
		{"blank lines at the end", "a,b\n1,x\n\n\n\n", Options{}, "a bigint, b text", 1},
		{"blank lines at the end, crlf", "a,b\r\n1,2\r\n\r\n\r\n", Options{}, "a bigint, b bigint", 1},
		{"blank lines after a quoted line break", "a,b\n1,\"x\n\"\n\n", Options{}, "a bigint, b text", 1},
		{"header and blank lines", "a,b\n\n\n", Options{}, "a text, b text", 0},
		{"single column blank line at the end", "a\n1\n\n", Options{}, "a bigint", 1},
		{"single column null rows", "a\n1\n\n\n2\n\n", Options{}, "a bigint", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time too: records across buffer refills.
			for _, r := range []func(string) *strings.Reader{strings.NewReader} {
				s, err := Infer(r(tt.csv), tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				if got := types(s); got != tt.want {
					t.Errorf("types = %q, want %q", got, tt.want)
				}
				if s.Rows != tt.rows {
					t.Errorf("rows = %d, want %d", s.Rows, tt.rows)
				}
			}
			s, err := Infer(iotest.OneByteReader(strings.NewReader(tt.csv)), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := types(s); got != tt.want {
				t.Errorf("one byte reads: types = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInferErrors(t *testing.T) {
	// A header of 1601 columns, a1 to a1601: the last starts after 1600
	// names and commas.
	var wide strings.Builder
	for i := 1; i <= 1601; i++ {
		if i > 1 {
			wide.WriteByte(',')
		}
		fmt.Fprintf(&wide, "a%d", i)
	}
	wideCol := strings.Index(wide.String(), ",a1601") + 2
	tests := []struct {
		name string
		csv  string
		opts Options
		want string
	}{
		{"empty file", "", Options{}, "seeds/x.csv: the file is empty (expected a header row with the column names)"},
		{"too many fields", "a,b\n1,2\n3,4,5\n", Options{}, "seeds/x.csv:3:5: row has 3 fields, the header has 2 (a value that holds the delimiter \",\" must be quoted, as in \"1,5\"; or set the seed's delimiter, if the file uses another)"},
		{"too few fields", "a,b\n1,2\n3\n", Options{}, "seeds/x.csv:3:2: row has 1 field, the header has 2 (add the missing field, empty for NULL; or set the seed's delimiter, if the file uses another than \",\")"},
		{"too few fields, the last quoted over lines", "a,b,c\n1,\"x\nyz\"\n", Options{}, "seeds/x.csv:3:4: row has 2 fields, the header has 3 (add the missing field, empty for NULL; or set the seed's delimiter, if the file uses another than \",\")"},
		{"two fields missing", "a,b,c\r\n1\r\n", Options{}, "seeds/x.csv:2:2: row has 1 field, the header has 3 (add the missing fields, empty for NULL; or set the seed's delimiter, if the file uses another than \",\")"},
		{"too many fields, another delimiter", "a;b\n1;2,5;x\n", Options{Delimiter: ';'}, "seeds/x.csv:2:7: row has 3 fields, the header has 2 (a value that holds the delimiter \";\" must be quoted, as in \"1;5\"; or set the seed's delimiter, if the file uses another)"},
		{"too few fields, tab", "a\tb\n1\n", Options{Delimiter: '\t'}, "seeds/x.csv:2:2: row has 1 field, the header has 2 (add the missing field, empty for NULL; or set the seed's delimiter, if the file uses another than tab)"},
		{"after quoted newline", "a,b\n\"x\ny\",1\n\"p\nq\nr\",2,3\n4,5\n", Options{}, "seeds/x.csv:6:6: row has 3 fields, the header has 2 (a value that holds the delimiter \",\" must be quoted, as in \"1,5\"; or set the seed's delimiter, if the file uses another)"},
		{"blank line", "a,b\n1,2\n\n3,4\n", Options{}, "seeds/x.csv:3: blank line (expected 2 fields like the header; remove the line: blank lines are ignored only at the end of the file)"},
		{"blank lines before a row", "a,b\n1,2\n\n\n3,4\n\n", Options{}, "seeds/x.csv:3: blank line (expected 2 fields like the header; remove the line: blank lines are ignored only at the end of the file)"},
		{"bare quote", "a,b\n1,x\"y\n", Options{}, "seeds/x.csv:2:4: bare \" in an unquoted field (quote the whole field and write the quote twice: \"\")"},
		{"text after quote", "a,b\n1,\"x\"y\n", Options{}, "seeds/x.csv:2:6: unexpected 'y' after a closing quote (expected the delimiter or the end of the line)"},
		{"unterminated quote", "a,b\n1,2\n3,\"x\ny\n", Options{}, "seeds/x.csv:3:3: quoted field is not closed before the end of the file (a quote inside a quoted field is written twice: \"\")"},
		{"bare cr", "a,b\n1,x\ry\n", Options{}, "seeds/x.csv:2:4: carriage return outside quotes (end lines with \\n or \\r\\n, or quote the field)"},
		{"mixed endings", "a,b\r\n1,2\r\n3,4\n", Options{}, "seeds/x.csv:3: line ends with \\n but the first line ends with \\r\\n (COPY needs one style of line ending in a file: save it with one throughout, for example with dos2unix)"},
		{"end of data marker", "a\nx\n\\.\ny\n", Options{}, "seeds/x.csv:3: a line that is only \\. ends COPY data in PostgreSQL (quote it: \"\\.\")"},
		{"end of data marker in quotes", "a\nx\n\"q\n\\.\nz\"\n", Options{}, "seeds/x.csv:4: a line that is only \\. ends COPY data in PostgreSQL (change or remove that line)"},
		{"latin1 byte", "a,b\n1,2\n2,caf\xe9\n", Options{}, "seeds/x.csv:3:6: byte 0xe9 is not UTF-8 (strata reads seeds as UTF-8: save the file as UTF-8, for example with iconv -f latin1 -t utf-8)"},
		{"latin1 byte in a quoted field of a text column", "a,b\nx,\"1\n\xfc\"\n", Options{}, "seeds/x.csv:3:1: byte 0xfc is not UTF-8 (strata reads seeds as UTF-8: save the file as UTF-8, for example with iconv -f latin1 -t utf-8)"},
		{"utf-8 cut short", "a\nx\n\xc3\n", Options{}, "seeds/x.csv:3:1: byte 0xc3 is not UTF-8 (strata reads seeds as UTF-8: save the file as UTF-8, for example with iconv -f latin1 -t utf-8)"},
		{"duplicate header", "id,name,id\n1,2,3\n", Options{}, "seeds/x.csv:1:9: duplicate column name \"id\" (also column 1: give one of them another name in the header row)"},
		{"duplicate non-ascii header", "größe,\"größe\"\n", Options{}, "seeds/x.csv:1:7: duplicate column name \"größe\" (also column 1: give one of them another name in the header row)"},
		{"empty header", "id,,x\n1,2,3\n", Options{}, "seeds/x.csv:1:4: column 2 has no name (every column needs a name in the header row)"},
		{"empty quoted header", "id,\"\"\n", Options{}, "seeds/x.csv:1:4: column 2 has no name (every column needs a name in the header row)"},
		{"header wider than a table", wide.String() + "\n", Options{}, fmt.Sprintf("seeds/x.csv:1:%d: the header has 1601 columns, more than the 1600 a PostgreSQL table can have (column 1601 starts here): split the file into seeds of fewer columns, or leave out the columns that nothing reads", wideCol)},
		{"header of 1600 columns", strings.TrimSuffix(wide.String(), ",a1601") + "\n" + strings.Repeat(",", 1599) + "1\n\"", Options{}, "seeds/x.csv:3:1: quoted field is not closed before the end of the file (a quote inside a quoted field is written twice: \"\")"},
		{"NUL in header", "id,a\x00b\n", Options{}, "seeds/x.csv:1:4: column name \"a\\x00b\" contains a NUL byte, which a PostgreSQL name cannot hold (remove it from the header row)"},
		{"latin1 header", "id,gr\xf6\xdfe\n", Options{}, "seeds/x.csv:1:4: column name \"gr\\xf6\\xdfe\" is not valid UTF-8 (strata reads seeds as UTF-8: save the file as UTF-8, for example with iconv -f latin1 -t utf-8)"},
		{"system column in header", "id,xmin,ymin\n", Options{}, "seeds/x.csv:1:4: column name \"xmin\" is the name of a column PostgreSQL gives every table, which a table's own column cannot have (give the column another name in the header row, as xmin_)"},
		{"long header", "id," + strings.Repeat("x", 64) + "\n", Options{}, "seeds/x.csv:1:4: column name \"" + strings.Repeat("x", 64) + "\" is 64 bytes long (PostgreSQL allows at most 63: give the column a shorter name in the header row)"},
		{"bad delimiter", "a\n", Options{Delimiter: '"'}, "delimiter \"\\\"\" is not allowed (expected one ASCII character other than a quote or a line break)"},
		{"non-ascii delimiter", "a\n", Options{Delimiter: '§'}, "delimiter \"§\" is not allowed (expected one ASCII character other than a quote or a line break)"},
		{"override unknown column", "id,name\n", Options{ColumnTypes: map[string]string{"nmae": "text"}}, "column_types: column \"nmae\" is not in the header of seeds/x.csv (did you mean \"name\"?)"},
		{"override injection", "id\n", Options{ColumnTypes: map[string]string{"id": "int); drop table x; --"}}, "column_types: column \"id\": \"int); drop table x; --\" is not a PostgreSQL type name strata accepts (expected words, numbers in parentheses and [], like numeric(12, 2), varchar(20) or timestamp(3) with time zone)"},
		{"override extra column", "id\n", Options{ColumnTypes: map[string]string{"id": "int, evil int"}}, "column_types: column \"id\": \"int, evil int\" is not a PostgreSQL type name strata accepts (expected words, numbers in parentheses and [], like numeric(12, 2), varchar(20) or timestamp(3) with time zone)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Path = "seeds/x.csv"
			for _, one := range []bool{false, true} {
				var r = strings.NewReader(tt.csv)
				var err error
				if one {
					_, err = Infer(iotest.OneByteReader(r), tt.opts)
				} else {
					_, err = Infer(r, tt.opts)
				}
				if err == nil {
					t.Fatalf("no error, want %q", tt.want)
				}
				if err.Error() != tt.want {
					t.Errorf("error (one byte reads: %v)\n got %q\nwant %q", one, err.Error(), tt.want)
				}
			}
		})
	}
}

func TestInferErrorIsDiagnostic(t *testing.T) {
	_, err := Infer(strings.NewReader("a,b\n1\n"), Options{Path: "seeds/x.csv"})
	var d diag.Diagnostic
	if !errors.As(err, &d) || d.Pos != (diag.Pos{File: "seeds/x.csv", Line: 2, Col: 2}) {
		t.Fatalf("err = %#v, want a diagnostic at seeds/x.csv:2:2", err)
	}
}

func TestChecksum(t *testing.T) {
	sum := func(csv string, opts Options) string {
		s, err := Infer(strings.NewReader(csv), opts)
		if err != nil {
			t.Fatal(err)
		}
		return s.Checksum
	}
	base := sum("a,b\n1,2\n", Options{})
	if !strings.HasPrefix(base, "sha256:") || len(base) != len("sha256:")+64 {
		t.Fatalf("checksum %q", base)
	}
	if sum("a,b\n1,2\n", Options{Path: "elsewhere.csv", FullRefresh: true}) != base {
		t.Error("path or full refresh changed the checksum")
	}
	// An older strata loaded the blank line at the end of a seed of one
	// column as a NULL row: the checksum of the file differs from what it
	// was, so that such a table is loaded again.
	if got, old := sum("a\n1\n\n", Options{}), "sha256:"+fmt.Sprintf("%x", sha256.Sum256([]byte("a\n1\n\n\x00"+checksumVersion+"\x00delimiter=','"))); got == old {
		t.Error("blank lines at the end kept the checksum of older versions")
	}
	if got, old := sum("a\n1\n", Options{}), "sha256:"+fmt.Sprintf("%x", sha256.Sum256([]byte("a\n1\n\x00"+checksumVersion+"\x00delimiter=','"))); got != old {
		t.Errorf("checksum %s, want %s as before", got, old)
	}
	for name, other := range map[string]string{
		"content":      sum("a,b\n1,3\n", Options{}),
		"delimiter":    sum("a,b\n1,2\n", Options{Delimiter: ';'}),
		"column_types": sum("a,b\n1,2\n", Options{ColumnTypes: map[string]string{"a": "text"}}),
	} {
		if other == base {
			t.Errorf("changing the %s kept the checksum", name)
		}
	}
}

// TestConfigChecksMatchTheLoader: validate (project.Config.Apply) accepts a
// delimiter or a column type exactly when Infer does. (A NUL delimiter is
// not among them: Options reads it as "not set", and validate rejects it.)
func TestConfigChecksMatchTheLoader(t *testing.T) {
	for _, d := range []string{",", ";", "|", "\t", " ", "\"", "\r", "\n", "é", "§", "\x7f"} {
		var c project.Config
		validateErr := c.Apply("delimiter", d)
		_, loadErr := Infer(strings.NewReader("a\n1\n"), Options{Path: "seeds/x.csv", Delimiter: []rune(d)[0]})
		if (validateErr == nil) != (loadErr == nil) {
			t.Errorf("delimiter %q: validate says %v, the loader %v", d, validateErr, loadErr)
		}
	}
	for _, typ := range []string{
		"text", "int", "numeric(12, 2)", "numeric(12,2)", "varchar(20)", "timestamp(3) with time zone",
		"double precision", "text[]", "int[3]", "public.my_type", " date ", "numeric(5, -2)",
		"int); drop table x; --", "int, evil int", "", "1int", "text -- x", "varchar(n)", "größe",
	} {
		var c project.Config
		validateErr := c.Apply("column_types", map[string]any{"a": typ})
		_, loadErr := Infer(strings.NewReader("a\n1\n"), Options{Path: "seeds/x.csv", ColumnTypes: map[string]string{"a": typ}})
		if (validateErr == nil) != (loadErr == nil) {
			t.Errorf("column type %q: validate says %v, the loader %v", typ, validateErr, loadErr)
		}
	}
}
