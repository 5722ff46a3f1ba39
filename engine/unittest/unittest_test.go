package unittest

import (
	"strings"
	"testing"

	"strata/engine/project"
)

func ptr(s string) *string { return &s }

// TestFormatDiff: columns aligned by characters (not bytes), NULL shown as
// NULL, a newline in a value kept on its line, at most max rows and a count
// of the rest; a text that would read as NULL or another text quoted (the
// text NULL showed as NULL does, beside a NULL).
func TestFormatDiff(t *testing.T) {
	rows := []DiffRow{
		{Side: "-", Values: []*string{ptr("1"), ptr("Zoë")}},
		{Side: "+", Values: []*string{ptr("1"), nil}},
		{Side: "+", Values: []*string{ptr("22"), ptr("a\nb")}},
	}
	got := FormatDiff([]string{"id", "name"}, rows, 2)
	want := strings.Join([]string{
		"actual differs from expected: 1 row only in expected (-), 2 only in actual (+)",
		"  id | name",
		"- 1  | Zoë",
		"+ 1  | NULL",
		"... and 1 more differing row",
	}, "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	got = FormatDiff([]string{"a_long_name", "b"}, rows[2:], 20)
	want = "actual differs from expected: 0 rows only in expected (-), 1 only in actual (+)\n  a_long_name | b\n+ 22          | a\\nb"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// The text NULL, the empty text and spaces at an end are quoted, so
	// that neither reads as NULL, nothing or another text.
	got = FormatDiff([]string{"id", "note"}, []DiffRow{
		{Side: "-", Values: []*string{ptr("1"), ptr("NULL")}},
		{Side: "+", Values: []*string{ptr("1"), nil}},
		{Side: "-", Values: []*string{ptr("2"), ptr("")}},
		{Side: "+", Values: []*string{ptr("2"), ptr(` a "b" `)}},
		{Side: "+", Values: []*string{ptr("3"), ptr("null")}},
		{Side: "+", Values: []*string{ptr("4"), ptr(`"NULL"`)}},
	}, 20)
	want = strings.Join([]string{
		"actual differs from expected: 2 rows only in expected (-), 4 only in actual (+)",
		"  id | note",
		`- 1  | "NULL"`,
		"+ 1  | NULL",
		`- 2  | ""`,
		`+ 2  | " a ""b"" "`,
		`+ 3  | "null"`,
		`+ 4  | """NULL"""`, // a text in quotes is quoted too: it read as the text NULL
	}, "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestDiffQuery: both directions of EXCEPT ALL over the expected columns,
// each cast to the actual type; json compared as jsonb, xml as text;
// identifiers quoted.
func TestDiffQuery(t *testing.T) {
	q := diffQuery([]Column{{Name: "id", Type: "bigint"}, {Name: `we"ird`, Type: "json"}, {Name: "x", Type: "xml"}})
	for _, want := range []string{
		`select cast("id" as bigint) as "id", cast("we""ird" as json)::jsonb as "we""ird", cast("x" as xml)::text as "x" from "pg_temp"."__strata_unit_expected" except all select cast("id" as bigint)`,
		`a as (select cast("id" as bigint) as "id", cast("we""ird" as json)::jsonb as "we""ird", cast("x" as xml)::text as "x" from "pg_temp"."__strata_unit_actual" except all`,
		`select '-' as strata_side, "id"::text, "we""ird"::text, "x"::text from e`,
		"order by 2, 3, 4, 1",
	} {
		if !strings.Contains(q, want) {
			t.Errorf("query lacks %s:\n%s", want, q)
		}
	}
}

// TestInsertRows: values are quoted literals, NULL for nil, columns quoted.
func TestInsertRows(t *testing.T) {
	r := rowsOf([]string{"id", "it's"}, [][]*string{{ptr("1"), ptr("o'k")}, {ptr("2"), nil}})
	got := insertRows(temp("t"), &r)
	want := "insert into \"pg_temp\".\"t\" (\"id\", \"it's\") values\n('1', 'o''k'),\n('2', NULL)"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func rowsOf(cols []string, vals [][]*string) project.UnitRows {
	r := project.UnitRows{Columns: cols}
	for _, v := range vals {
		row := project.UnitRow{Values: map[string]*string{}}
		for i, c := range cols {
			row.Values[c] = v[i]
		}
		r.Rows = append(r.Rows, row)
	}
	return r
}

// TestComparedType: the types whose length, precision or fields would
// round or cut an expected value are compared without them; the others
// as they are.
func TestComparedType(t *testing.T) {
	for typ, want := range map[string]string{
		"numeric(12,2)":                  "numeric",
		"numeric":                        "numeric",
		"character varying(2)":           "character varying",
		"character varying(4)[]":         "character varying[]",
		"character(3)":                   "bpchar",
		"character(3)[]":                 "bpchar[]",
		"timestamp(0) without time zone": "timestamp without time zone",
		"timestamp(3) with time zone":    "timestamp with time zone",
		"time(2) with time zone":         "time with time zone",
		"interval day to second(2)":      "interval",
		"interval year":                  "interval",
		"bit(3)":                         "bit varying",
		"date":                           "timestamp without time zone",
		"date[]":                         "timestamp without time zone[]",
		"bigint":                         "bigint",
		"jsonb":                          "jsonb",
		"text[]":                         "text[]",
		"geometry(Point,4326)":           "geometry(Point,4326)",
	} {
		if got := comparedType(typ); got != want {
			t.Errorf("comparedType(%q) = %q, want %q", typ, got, want)
		}
	}
}

// TestShown: a value of a type compared without its length or precision
// shows as the column prints it when that loses nothing; a number is cast
// only when it fits the column (a cast would fail on one too large).
func TestShown(t *testing.T) {
	for _, tc := range []struct{ typ, want string }{
		{"bigint", `"x"::text`},
		{"character varying(2)", `case when cast("x" as character varying(2)) = "x" then cast("x" as character varying(2))::text else "x"::text end`},
		{"numeric(12,2)", `case when "x" = round("x", 2) and abs("x") < 1e10 then cast("x" as numeric(12,2))::text else "x"::text end`},
		// An array of a typmod shows as compared: there is no round() of an array.
		{"numeric(14,2)[]", `"x"::text`},
		{"date", `case when cast("x" as date) = "x" then cast("x" as date)::text else "x"::text end`},
		{"date[]", `case when cast(cast("x" as date[]) as timestamp without time zone[]) = "x" then cast("x" as date[])::text else "x"::text end`},
	} {
		if got := shown(Column{Name: "x", Type: tc.typ}); got != tc.want {
			t.Errorf("%s: got %s\nwant %s", tc.typ, got, tc.want)
		}
	}
}

// TestArrayRows: a list in an array column becomes an array literal (its
// elements quoted, backslashes and quotes escaped, null as NULL, lists in
// lists as nested braces, mappings as JSON); elsewhere, and a value that
// is not a list, it stays as it is.
func TestArrayRows(t *testing.T) {
	r := rowsOf([]string{"tags", "doc", "word"}, [][]*string{
		{ptr(`["a", "b \"c\" \\d", null, 1.50, true]`), ptr(`[1, 2]`), ptr(`[x]`)},
		{ptr(`[[1, 2], [3, 4]]`), nil, nil},
		{ptr(`{a,b}`), nil, nil},
		{ptr(`[{"k": 1}]`), nil, nil},
	})
	got := arrayRows(&r, []Column{{Name: "tags", Type: "text[]"}, {Name: "doc", Type: "jsonb"}, {Name: "word", Type: "text"}})
	for i, want := range []string{`{"a","b \"c\" \\d",NULL,"1.50","true"}`, `{{"1","2"},{"3","4"}}`, `{a,b}`, `{"{\"k\":1}"}`} {
		if v := got.Rows[i].Values["tags"]; v == nil || *v != want {
			t.Errorf("row %d: %v, want %s", i+1, v, want)
		}
	}
	if *got.Rows[0].Values["doc"] != `[1, 2]` || *got.Rows[0].Values["word"] != `[x]` || *r.Rows[0].Values["tags"] != `["a", "b \"c\" \\d", null, 1.50, true]` {
		t.Errorf("changed what it should not: %+v", got.Rows[0].Values)
	}
	if same := arrayRows(&r, []Column{{Name: "tags", Type: "text"}}); same != &r {
		t.Errorf("rows without array columns were copied")
	}
}
