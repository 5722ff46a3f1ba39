package project

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"strata/engine/diag"
)

func loadUnit(t *testing.T, yml string, extra ...string) (*Project, diag.List) {
	t.Helper()
	fsys := fstest.MapFS{
		"project.yaml":      {Data: []byte("name: shop\n")},
		"models/a.sql":      {Data: []byte("select 1")},
		"models/schema.yml": {Data: []byte(yml)},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		fsys[extra[i]] = &fstest.MapFile{Data: []byte(extra[i+1])}
	}
	return Load(fsys)
}

// TestUnitTestForms: what a dbt user writes is read, with values kept as
// written (dates, 1.50), NULL for null, JSON for mappings, CSV with
// aligned columns and empty values as NULL, fixtures by path or by dbt's
// bare name, and the overrides.
func TestUnitTestForms(t *testing.T) {
	p, diags := loadUnit(t, `unit_tests:
  - name: t1
    model: a
    description: d
    tags: [x]
    config: {tags: y, enabled: false, meta: {owner: me}}
    given:
      - input: ref('b')
        rows:
          - {id: 1, at: 2024-01-05, amount: 1.50, note: null, doc: {k: [1, 2]}}
          - {id: 2, flag: true}
      - input: source("crm", "accounts")
        format: csv
        rows: |
          id , name
          1  , ann
          2  ,
      - input: ref "c"
        fixture: people
      - input: this
        format: sql
        rows: select 1 as id
    overrides:
      vars: {v: 3}
      env_vars: {E: x}
      macros: {is_incremental: true, shout: "'x'", run_started_at: '2024-03-01'}
    expect:
      format: sql
      fixture: tests/fixtures/want.sql
`, "tests/fixtures/people.csv", "id,name\n1,ann\n", "tests/fixtures/want.sql", "select 1")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(p.UnitTests) != 1 {
		t.Fatalf("%d unit tests", len(p.UnitTests))
	}
	u := p.UnitTests[0]
	if u.Name != "t1" || u.Model != "a" || u.Enabled || strings.Join(u.Tags, ",") != "x,y" || u.Pos.Line != 2 || u.ModelPos.Line != 3 {
		t.Errorf("entry: %+v", u)
	}
	if len(u.Given) != 4 {
		t.Fatalf("%d given", len(u.Given))
	}
	g := u.Given[0]
	if g.Kind != "ref" || g.Name != "b" || g.Format != "dict" || strings.Join(g.Columns, ",") != "id,at,amount,note,doc,flag" {
		t.Errorf("given 0: %+v", g)
	}
	val := func(v *string) string {
		if v == nil {
			return "NULL"
		}
		return *v
	}
	r0, r1 := g.Rows[0].Values, g.Rows[1].Values
	for col, want := range map[string]string{"id": "1", "at": "2024-01-05", "amount": "1.50", "note": "NULL", "doc": `{"k":[1,2]}`} {
		if got := val(r0[col]); got != want {
			t.Errorf("row 1 %s = %s, want %s", col, got, want)
		}
	}
	if val(r1["flag"]) != "true" || val(r1["amount"]) != "NULL" || g.Rows[1].Pos.Line != 11 {
		t.Errorf("row 2: %v at %v", r1, g.Rows[1].Pos)
	}
	s := u.Given[1]
	if s.Kind != "source" || s.Name != "crm" || s.Table != "accounts" || strings.Join(s.Columns, ",") != "id,name" || len(s.Rows) != 2 ||
		val(s.Rows[0].Values["name"]) != "ann" || val(s.Rows[1].Values["name"]) != "NULL" || s.Rows[1].Pos.Line != 17 || s.ColPos["name"].Line != 15 {
		t.Errorf("csv given: %+v", s)
	}
	if f := u.Given[2]; f.Kind != "ref" || f.Name != "c" || f.Fixture != "tests/fixtures/people.csv" || f.Format != "csv" || len(f.Rows) != 1 || f.Rows[0].Pos.File != "tests/fixtures/people.csv" || f.Rows[0].Pos.Line != 2 {
		t.Errorf("fixture given: %+v", f)
	}
	if th := u.Given[3]; th.Kind != "this" || th.Format != "sql" || th.SQL != "select 1 as id" {
		t.Errorf("this: %+v", th)
	}
	o := u.Overrides
	if o.Vars["v"] != 3 || o.EnvVars["E"] != "x" || o.IsIncremental == nil || !*o.IsIncremental || o.Macros["shout"] != "'x'" || o.RunStartedAt != "2024-03-01T00:00:00Z" {
		t.Errorf("overrides: %+v", o)
	}
	if u.Expect.Format != "sql" || u.Expect.SQL != "select 1" {
		t.Errorf("expect: %+v", u.Expect)
	}
	if u.Checksum == "" {
		t.Error("no checksum")
	}
}

// TestUnitTestProblems pins the errors of unit tests that need only the YAML.
func TestUnitTestProblems(t *testing.T) {
	cases := []struct{ yml, want string }{
		{"unit_tests:\n  - model: a\n    expect: {rows: []}\n", "models/schema.yml:2:5: unit test entry has no name: (expected name: <test name>)"},
		{"unit_tests:\n  - name: t\n    model: a\n", "models/schema.yml:2:11: unit test t has no expect: (expected the rows the model should return)"},
		{"unit_tests:\n  - name: t\n    model: a\n    expect: {}\n", "models/schema.yml:4:13: expect has no rows: (expected rows: [] for no rows, or a fixture:)"},
		{"unit_tests:\n  - name: t\n    model: a\n    given: [{input: ref(b)}]\n    expect: {rows: []}\n", `models/schema.yml:4:21: given input "ref(b)" is not known (expected ref('model'), source('source', 'table') or this)`},
		{"unit_tests:\n  - name: t\n    model: a\n    given: [{input: ref('b'), rows: x}]\n    expect: {rows: []}\n", "models/schema.yml:4:37: given ref('b'): rows is \"x\" (expected a list of rows such as [{id: 1, name: x}]; CSV rows or a query as text need format: csv or format: sql)"},
		{"unit_tests:\n  - name: t\n    model: a\n    given: [{input: ref('b'), rows: 5}]\n    expect: {rows: []}\n", "models/schema.yml:4:37: given ref('b'): rows is \"5\" (expected a list of rows such as [{id: 1, name: x}]; CSV rows or a query as text need format: csv or format: sql)"},
		{"unit_tests:\n  - name: t\n    model: a\n    given: []\n    expect:\n      rows: |\n        id,name\n        1,x\n", "models/schema.yml:6:13: expect: rows is text (expected a list of rows such as [{id: 1, name: x}]; CSV rows or a query as text need format: csv or format: sql)"},
		{"unit_tests:\n  - name: t\n    model: a\n    given: [{input: ref('b'), rows: [], fixture: f}]\n    expect: {rows: []}\n", "models/schema.yml:4:41: given ref('b') has both rows: and fixture: (expected one of them)"},
		{"unit_tests:\n  - name: t\n    model: a\n    given: [{input: ref('b'), format: csv, rows: [1]}]\n    expect: {rows: []}\n", "models/schema.yml:4:50: given ref('b'): format csv takes rows as text (rows: | then a header line and one line per row)"},
		{"unit_tests:\n  - name: t\n    model: a\n    given: [{input: ref('b'), fixture: ../x.csv}]\n    expect: {rows: []}\n", `models/schema.yml:4:40: given ref('b'): fixture "../x.csv" is outside the project (expected a path relative to the project, such as tests/fixtures/orders.csv)`},
		{"unit_tests:\n  - name: t\n    model: a\n    given: [{input: ref('b'), format: dict, fixture: x.csv}]\n    expect: {rows: []}\n", "models/schema.yml:4:54: given ref('b'): a fixture is a CSV or SQL file (set format: csv or format: sql)"},
		{"unit_tests:\n  - name: t\n    model: a\n    expect: {format: csv, rows: \"a,a\\n1,2\\n\"}\n", `models/schema.yml:4:33: CSV header names column "a" twice`},
		{"unit_tests:\n  - name: t\n    model: a\n    expect: {format: csv, rows: \"a\\n\\\"x\\n\"}\n", `models/schema.yml:4:33: invalid CSV: a quoted value is not closed (a " inside a quoted value is written "")`},
		{"unit_tests:\n  - name: t\n    model: a\n    overrides: {macros: {m: [1]}}\n    expect: {rows: []}\n", "models/schema.yml:4:29: macro override m must be the SQL text the macro is replaced by, got a list"},
		{"unit_tests:\n  - name: t\n    model: a\n    versions: {include: [1]}\n    expect: {rows: []}\n", "models/schema.yml:4:5: unit test t: versions: is dbt's for versioned models, which strata does not have (leave it out)"},
		{"unit_tests:\n  - name: t\n    model: a\n    expect: {rows: [{a: 1}], fixture: nope}\n", "models/schema.yml:4:30: expect has both rows: and fixture: (expected one of them)"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			_, diags := loadUnit(t, tc.yml)
			var got []string
			for _, d := range diags {
				if d.Severity == diag.Error {
					got = append(got, d.Error())
				}
			}
			if len(got) == 0 || got[0] != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestFixturePath: a path stays in the project; a bare name is dbt's
// tests/fixtures/<name>.<format>.
func TestFixturePath(t *testing.T) {
	for _, tc := range []struct{ name, format, want, err string }{
		{"tests/fixtures/x.csv", "csv", "tests/fixtures/x.csv", ""},
		{"orders", "csv", "tests/fixtures/orders.csv", ""},
		{"orders", "sql", "tests/fixtures/orders.sql", ""},
		{"x.csv", "csv", "x.csv", ""},
		{"tests/../data/x.csv", "csv", "data/x.csv", ""},
		{`tests\fixtures\x.csv`, "csv", "tests/fixtures/x.csv", ""},
		{"../x.csv", "csv", "", "outside the project"},
		{"tests/../../x.csv", "csv", "", "outside the project"},
		{"/etc/passwd", "csv", "", "outside the project"},
		{`C:\x.csv`, "csv", "", "outside the project"},
		{" ", "csv", "", "fixture is empty"},
	} {
		got, err := FixturePath(tc.name, tc.format)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// TestParseUnitCSV: CRLF, non-ASCII, quoted values with commas, and the
// place of each row; an empty value is NULL, a quoted one is kept as
// written, its spaces too ("" is the empty string), also when spaces
// align it; a malformed text is an error at its line.
func TestParseUnitCSV(t *testing.T) {
	r := UnitRows{ColPos: map[string]diag.Pos{}}
	if err := ParseUnitCSV(&r, "f.yml", diag.Origin{Line: 10, Col: 5, Indent: 4}, "id,name\r\n1,\"Zoë, Jr\"\r\n\r\n2,  \"\"\r\n"); err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 2 || *r.Rows[0].Values["name"] != "Zoë, Jr" || r.Rows[1].Values["name"] == nil || *r.Rows[1].Values["name"] != "" || r.Rows[0].Pos.Line != 11 || r.Rows[1].Pos.Line != 13 {
		t.Errorf("%+v", r.Rows)
	}
	// Each column name and value is placed where it is written: the first
	// line after the origin's column, the others after its indentation.
	if got, want := []diag.Pos{r.ColPos["name"], r.Rows[0].At["name"], r.Rows[1].At["name"], r.Rows[1].At["id"]}, []diag.Pos{{File: "f.yml", Line: 10, Col: 8}, {File: "f.yml", Line: 11, Col: 7}, {File: "f.yml", Line: 13, Col: 9}, {File: "f.yml", Line: 13, Col: 5}}; !slices.Equal(got, want) {
		t.Errorf("placed at %v, want %v", got, want)
	}
	r = UnitRows{ColPos: map[string]diag.Pos{}}
	text := " id , name,     note\n 1 , \" Ann \" , \"a \"\"b\"\"\nc\"\n 2 ,      , \"   \"   \n"
	if err := ParseUnitCSV(&r, "f.yml", diag.Origin{}, text); err != nil {
		t.Fatal(err)
	}
	str := func(v *string) string {
		if v == nil {
			return "NULL"
		}
		return "[" + *v + "]"
	}
	var got []string
	for _, row := range r.Rows {
		for _, c := range r.Columns {
			got = append(got, c+"="+str(row.Values[c]))
		}
	}
	if want := `id=[1] name=[ Ann ] note=[a "b"` + "\nc] id=[2] name=NULL note=[   ]"; strings.Join(got, " ") != want || r.Rows[1].Pos.Line != 4 {
		t.Errorf("got %s (row 2 at line %d)\nwant %s", strings.Join(got, " "), r.Rows[1].Pos.Line, want)
	}
	if got, want := []diag.Pos{r.Rows[0].At["note"], r.Rows[1].At["id"], r.Rows[1].At["note"], r.Rows[1].Pos}, []diag.Pos{{File: "f.yml", Line: 2, Col: 16}, {File: "f.yml", Line: 4, Col: 2}, {File: "f.yml", Line: 4, Col: 13}, {File: "f.yml", Line: 4, Col: 2}}; !slices.Equal(got, want) {
		t.Errorf("placed at %v, want %v", got, want)
	}
	for text, want := range map[string]string{
		"":                    "f.yml:1:1: CSV rows have no header line (expected the column names first)",
		"a,b\n1,\"x\" y\n":    `f.yml:2:7: invalid CSV: text after the closing quote of a value (quote the whole value, and write a " inside it as "")`,
		"a,b\n1,x \"y\"\n":    `f.yml:2:5: invalid CSV: a " inside a value that is not quoted (quote the whole value, and write a " inside it as "")`,
		"a,b\n1,2\n3,\"x\n\n": `f.yml:3:3: invalid CSV: a quoted value is not closed (a " inside a quoted value is written "")`,
	} {
		r = UnitRows{ColPos: map[string]diag.Pos{}}
		if err := ParseUnitCSV(&r, "f.yml", diag.Origin{}, text); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", text, err, want)
		}
	}
}

// FuzzParseUnitCSV: any text gives rows or an error, never a panic, and
// each row has a value slot for every column only.
func FuzzParseUnitCSV(f *testing.F) {
	f.Add("id,name\n1,a\n")
	f.Add("a\n\"x\n")
	f.Add(" , \n,,\n")
	f.Add("a,b\r\n1\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		r := UnitRows{ColPos: map[string]diag.Pos{}}
		if err := ParseUnitCSV(&r, "f", diag.Origin{}, text); err != nil {
			return
		}
		for _, row := range r.Rows {
			if len(row.Values) != len(r.Columns) {
				t.Fatalf("row has %d values, %d columns", len(row.Values), len(r.Columns))
			}
		}
	})
}

// TestSQLFixturesAreNoSingularTests: a query a unit test reads as its
// rows (format sql, fixture:) is no singular test, in tests/fixtures/ (dbt's
// place for fixtures, where a bare name looks) or elsewhere; it was run by
// every test and build as one, failing on the rows it returns. A query
// in tests/ that no unit test reads is one.
func TestSQLFixturesAreNoSingularTests(t *testing.T) {
	p, diags := loadUnit(t, `unit_tests:
  - name: u
    model: a
    given: []
    expect:
      format: sql
      fixture: expected_a
  - name: v
    model: a
    given: []
    expect:
      format: sql
      fixture: tests/unit/expected_v.sql
`,
		"tests/fixtures/expected_a.sql", "select 1",
		"tests/fixtures/unused.sql", "select 1",
		"tests/fixtures/nested/also_unused.sql", "select 1",
		"tests/unit/expected_v.sql", "select 1",
		"tests/no_rows.sql", "select 1 where false",
	)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var got []string
	for _, s := range p.Singular {
		got = append(got, s.Path)
	}
	if want := []string{"tests/no_rows.sql"}; !slices.Equal(got, want) {
		t.Errorf("singular tests %v, want %v", got, want)
	}
}
