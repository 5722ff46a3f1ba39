package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"strata/engine/diag"
)

// UnitTest is one entry of a unit_tests: list (docs/unit-tests.md): the logic of one
// model run on rows it is given, compared with the rows expected. The YAML
// follows dbt's, so that dbt users can bring theirs.
type UnitTest struct {
	Name        string
	Model       string
	Description string
	Tags        []string
	Enabled     bool
	Given       []*UnitGiven
	Expect      UnitRows
	Overrides   UnitOverrides
	// Pos is the name's place; ModelPos the model's.
	Pos, ModelPos diag.Pos
	// Checksum hashes the entry as written (and its fixtures' contents).
	Checksum string
}

// UnitGiven is one given input: the rows a ref, a source or the model's own
// table (this) holds during the test.
type UnitGiven struct {
	// Input is as written: ref('x'), source('s', 't') or this.
	Input string
	// Kind is "ref", "source" or "this"; Name the model or seed (ref) or the
	// source (source), Table the source's table.
	Kind, Name, Table string
	Pos               diag.Pos
	UnitRows
}

// UnitRows are rows a unit test gives or expects: dict rows, CSV (inline
// or a fixture file), or an SQL query.
type UnitRows struct {
	// Format is "dict", "csv" or "sql".
	Format string
	// Columns are the columns the rows name, in order of first appearance.
	Columns []string
	Rows    []UnitRow
	// SQL is the query of format sql; SQLFile the file it is written in
	// and SQLAt where in that file (the zero Origin: it is the whole file,
	// a fixture).
	SQL     string
	SQLFile string
	SQLAt   diag.Origin
	// Fixture is the file the rows come from, relative to the project.
	Fixture string
	// Pos is where the rows (or the fixture) are written; ColPos where each
	// column is first named.
	Pos    diag.Pos
	ColPos map[string]diag.Pos
}

// QueryPos is where byte b of the query of format sql (SQL) is in its
// file; an offset past the query is its end.
func (r *UnitRows) QueryPos(b int) diag.Pos {
	b = min(max(b, 0), len(r.SQL))
	start := strings.LastIndexByte(r.SQL[:b], '\n') + 1
	return r.SQLAt.Place(r.SQLFile, r.SQL, 1+strings.Count(r.SQL[:b], "\n"), b-start)
}

// UnitRow is one row: its values as text by column (nil is NULL), and its place.
type UnitRow struct {
	Values map[string]*string
	Pos    diag.Pos
	// At is where each value is written; a value not in it is placed at
	// the row.
	At map[string]diag.Pos
}

// UnitOverrides replace what the model's template reads during the test.
type UnitOverrides struct {
	Vars    map[string]any
	EnvVars map[string]string
	// IsIncremental is overrides.macros.is_incremental; nil when not set.
	IsIncremental    *bool
	IsIncrementalPos diag.Pos
	// Macros replaces project macros by literal SQL text.
	Macros map[string]string
	// RunStartedAt freezes the clock run_started_at renders (RFC 3339, UTC).
	RunStartedAt string
	Pos          diag.Pos
	// MacroPos is where each macro override is written; VarPos and
	// EnvVarPos, each var and environment variable.
	MacroPos, VarPos, EnvVarPos map[string]diag.Pos
}

var unitTestKeys = []string{"name", "model", "description", "tags", "config", "given", "expect", "overrides", "versions"}
var unitConfigKeys = []string{"tags", "enabled", "meta"}
var unitGivenKeys = []string{"input", "format", "rows", "fixture"}
var unitExpectKeys = []string{"format", "rows", "fixture"}
var unitOverrideKeys = []string{"vars", "env_vars", "macros", "run_started_at"}

// UnitFormats are the formats of given and expect rows.
var UnitFormats = []string{"dict", "csv", "sql"}

// unitNameRe is dbt's rule for unit test names: a name is part of an id,
// a file name and a selector.
var unitNameRe = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

var (
	refInputRe    = regexp.MustCompile(`^ref\s*(?:\(\s*(?:'([^']*)'|"([^"]*)")\s*\)|\s+"([^"]*)")$`)
	sourceInputRe = regexp.MustCompile(`^source\s*(?:\(\s*(?:'([^']*)'|"([^"]*)")\s*,\s*(?:'([^']*)'|"([^"]*)")\s*\)|\s+"([^"]*)"\s+"([^"]*)")$`)
)

// readUnitTests reads a unit_tests: list of file.
func (p *Project) readUnitTests(d *decoder, n *yaml.Node) {
	for _, item := range d.list(n, "unit_tests") {
		if t := d.unitTest(item); t != nil {
			p.UnitTests = append(p.UnitTests, t)
		}
	}
}

func (d *decoder) unitTest(item *yaml.Node) *UnitTest {
	f := d.mapping(item, "unit test", unitTestKeys...)
	nf, ok := d.named(f, item, "unit test entry has no name: (expected name: <test name>)")
	if !ok {
		return nil
	}
	t := &UnitTest{Name: d.str(nf.value, "name"), Pos: d.pos(nf.value), Enabled: true}
	if !unitNameRe.MatchString(t.Name) {
		d.errorf(nf.value, "unit test name %q must contain only letters, digits and underscores", t.Name)
	}
	if x, ok := f["model"]; ok {
		t.Model, t.ModelPos = d.str(x.value, "model"), d.pos(x.value)
	} else {
		d.errorf(nf.value, "unit test %s has no model: (expected the model it tests)", t.Name)
	}
	if x, ok := f["description"]; ok {
		t.Description = d.description(x.value)
	}
	if x, ok := f["tags"]; ok {
		t.Tags = append(t.Tags, d.strList(x.value, "tags")...)
	}
	if x, ok := f["versions"]; ok {
		d.errorf(x.key, "unit test %s: versions: is dbt's for versioned models, which strata does not have (leave it out)", t.Name)
	}
	if x, ok := f["config"]; ok {
		cf := d.mapping(x.value, "unit test config", unitConfigKeys...)
		if v, ok := cf["tags"]; ok {
			t.Tags = append(t.Tags, d.strList(v.value, "tags")...)
		}
		if v, ok := cf["enabled"]; ok {
			t.Enabled = d.boolean(v.value, "enabled")
		}
	}
	if x, ok := f["given"]; ok {
		for _, g := range d.list(x.value, "given") {
			if in := d.unitGiven(t, g); in != nil {
				t.Given = append(t.Given, in)
			}
		}
	}
	if x, ok := f["expect"]; ok {
		ef := d.mapping(x.value, "expect", unitExpectKeys...)
		t.Expect = d.unitRows(t, ef, x.value, "expect")
	} else {
		d.errorf(nf.value, "unit test %s has no expect: (expected the rows the model should return)", t.Name)
	}
	if x, ok := f["overrides"]; ok {
		t.Overrides = d.unitOverrides(x.value)
	}
	return t
}

func (d *decoder) unitGiven(t *UnitTest, n *yaml.Node) *UnitGiven {
	f := d.mapping(n, "given input", unitGivenKeys...)
	x, ok := f["input"]
	if !ok {
		if n.Kind == yaml.MappingNode {
			d.errorf(n, "given entry has no input: (expected ref('model'), source('source', 'table') or this)")
		}
		return nil
	}
	g := &UnitGiven{Input: strings.TrimSpace(d.str(x.value, "input")), Pos: d.pos(x.value)}
	switch in := g.Input; {
	case in == "this" || in == "{{ this }}":
		g.Kind = "this"
	case refInputRe.MatchString(in):
		m := refInputRe.FindStringSubmatch(in)
		g.Kind, g.Name = "ref", m[1]+m[2]+m[3]
	case sourceInputRe.MatchString(in):
		m := sourceInputRe.FindStringSubmatch(in)
		g.Kind, g.Name, g.Table = "source", m[1]+m[2]+m[5], m[3]+m[4]+m[6]
	default:
		d.errorf(x.value, "given input %q is not known (expected ref('model'), source('source', 'table') or this)", in)
		return nil
	}
	g.UnitRows = d.unitRows(t, f, n, "given "+g.Input)
	return g
}

// unitRows reads the rows of a given input or of expect: format, rows, fixture.
func (d *decoder) unitRows(t *UnitTest, f map[string]field, at *yaml.Node, what string) UnitRows {
	r := UnitRows{Format: "dict", Pos: d.pos(at), ColPos: map[string]diag.Pos{}}
	if x, ok := f["format"]; ok {
		r.Format = d.str(x.value, "format")
		if !contains(UnitFormats, r.Format) {
			d.errorf(x.value, "%s: format %q is not known (expected dict, csv or sql)%s", what, r.Format, diag.DidYouMean(r.Format, UnitFormats))
			return r
		}
	}
	rows, hasRows := f["rows"]
	fix, hasFix := f["fixture"]
	switch {
	case hasRows && hasFix:
		d.errorf(fix.key, "%s has both rows: and fixture: (expected one of them)", what)
		return r
	case hasFix:
		r.Pos = d.pos(fix.value)
		name := d.str(fix.value, "fixture")
		if _, set := f["format"]; !set && !strings.HasSuffix(name, ".sql") {
			r.Format = "csv"
		}
		if r.Format == "dict" {
			d.errorf(fix.value, "%s: a fixture is a CSV or SQL file (set format: csv or format: sql)", what)
			return r
		}
		file, err := FixturePath(name, r.Format)
		if err != nil {
			d.errorf(fix.value, "%s: %v", what, err)
			return r
		}
		r.Fixture = file
		return r
	case !hasRows:
		if what == "expect" {
			d.errorf(at, "expect has no rows: (expected rows: [] for no rows, or a fixture:)")
		}
		return r // a given input without rows is empty
	}
	r.Pos = d.pos(rows.value)
	switch r.Format {
	case "dict":
		n := resolve(rows.value)
		if n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
			// rows: 5 is no more CSV than a list: say what it is and
			// what rows: takes, not only that it is text.
			got := "text"
			if !strings.ContainsAny(n.Value, "\n,") && len(n.Value) <= 40 {
				got = kindName(n)
			}
			d.errorf(n, "%s: rows is %s (expected a list of rows such as [{id: 1, name: x}]; CSV rows or a query as text need format: csv or format: sql)", what, got)
			return r
		}
		for _, rn := range d.list(rows.value, "rows") {
			if rn.Kind != yaml.MappingNode {
				d.errorf(rn, "%s: a row must be a mapping such as {id: 1, name: x}, got %s", what, kindName(rn))
				continue
			}
			row := UnitRow{Values: map[string]*string{}, Pos: d.pos(rn), At: map[string]diag.Pos{}}
			for _, kv := range d.pairs(rn, "row") {
				col := kv.key.Value
				if _, seen := r.ColPos[col]; !seen {
					r.Columns = append(r.Columns, col)
					r.ColPos[col] = d.pos(kv.key)
				}
				row.Values[col] = d.cellText(kv.value)
				row.At[col] = d.pos(kv.value)
			}
			r.Rows = append(r.Rows, row)
		}
	case "csv":
		n := resolve(rows.value)
		if n == nil || n.Kind != yaml.ScalarNode {
			d.errorf(rows.value, "%s: format csv takes rows as text (rows: | then a header line and one line per row)", what)
			return r
		}
		if err := ParseUnitCSV(&r, d.file, textOrigin(d.lines, n), n.Value); err != nil {
			d.diags.Add(d.pos(n), err)
		}
	case "sql":
		r.SQL = d.str(rows.value, "rows")
		r.SQLFile = d.file
		if n := resolve(rows.value); n != nil && n.Kind == yaml.ScalarNode {
			r.SQLAt = textOrigin(d.lines, n)
		} else {
			r.SQLAt = diag.Origin{Line: r.Pos.Line, Col: r.Pos.Col, Fixed: true}
		}
		if strings.TrimSpace(r.SQL) == "" {
			d.errorf(rows.value, "%s: format sql needs a query in rows:", what)
		}
	}
	return r
}

// cellText is a YAML value as the text PostgreSQL is given: a scalar as
// written (2024-01-05 stays a date, 1.50 keeps its digits), null as NULL,
// a list or mapping as JSON (for json and jsonb columns).
func (d *decoder) cellText(n *yaml.Node) *string {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		s := n.Value
		return &s
	}
	b, err := json.Marshal(d.value(n))
	if err != nil {
		d.errorf(n, "cannot write this value as JSON: %v", err)
		return nil
	}
	s := string(b)
	return &s
}

// ParseUnitCSV reads CSV text into r: a header line, then one line per
// row; spaces around values are ignored (columns may be aligned), and an
// empty value is NULL. A quoted value is kept exactly as written, its
// spaces too ("" is the empty string), as PostgreSQL's COPY reads CSV.
// at is where the text is in file (the zero Origin: the text is the
// file); each row, column name and value is placed where it is written.
func ParseUnitCSV(r *UnitRows, file string, at diag.Origin, text string) error {
	records, err := splitUnitCSV(text)
	if err != nil {
		var ce csvError
		if errors.As(err, &ce) {
			return diag.Diagnostic{Pos: at.Place(file, text, ce.line, ce.col), Msg: "invalid CSV: " + ce.msg}
		}
		return err
	}
	var header []string
	for _, rec := range records {
		pos := at.Place(file, text, rec.line, rec.col)
		if header == nil {
			seen := map[string]bool{}
			for _, f := range rec.fields {
				h := f.value
				if h == "" {
					return diag.Diagnostic{Pos: pos, Msg: "CSV header has an empty column name"}
				}
				if seen[h] {
					return diag.Diagnostic{Pos: at.Place(file, text, f.line, f.col), Msg: fmt.Sprintf("CSV header names column %q twice", h)}
				}
				seen[h] = true
				header = append(header, h)
				r.Columns = append(r.Columns, h)
				r.ColPos[h] = at.Place(file, text, f.line, f.col)
			}
			continue
		}
		if len(rec.fields) != len(header) {
			return diag.Diagnostic{Pos: pos, Msg: fmt.Sprintf("CSV row has %d values, the header %d columns", len(rec.fields), len(header))}
		}
		row := UnitRow{Values: map[string]*string{}, Pos: pos, At: map[string]diag.Pos{}}
		for i, f := range rec.fields {
			if f.value == "" && !f.quoted {
				row.Values[header[i]] = nil
				continue
			}
			v := f.value
			row.Values[header[i]] = &v
			row.At[header[i]] = at.Place(file, text, f.line, f.col)
		}
		r.Rows = append(r.Rows, row)
	}
	if header == nil {
		return diag.Diagnostic{Pos: at.Place(file, text, 1, 0), Msg: "CSV rows have no header line (expected the column names first)"}
	}
	return nil
}

// csvField is one value of a CSV record; quoted says it was written in
// double quotes, which keep it exactly. line (from 1) and col (the byte
// in that line, from 0) are where it starts: its first character that is
// not a space, or its opening quote.
type csvField struct {
	value     string
	quoted    bool
	line, col int
}

// csvRecord is one record of CSV text and where it starts: its line (from
// 1) and the byte of its first character that is not a space (from 0).
type csvRecord struct {
	line, col int
	fields    []csvField
}

// csvError is a malformed CSV text, at a line of it (from 1) and the
// byte of that line where it goes wrong (from 0).
type csvError struct {
	line, col int
	msg       string
}

func (e csvError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// splitUnitCSV splits text into records of fields. Lines that hold only
// spaces are skipped. An unquoted value is trimmed of the spaces around
// it; a quoted one is kept as written between its quotes ("" inside
// stands for one "), and may span lines; spaces may surround the quotes.
func splitUnitCSV(text string) ([]csvRecord, error) {
	var out []csvRecord
	line, i, n := 1, 0, len(text)
	bol := 0 // where line begins
	space := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }
	for i < n {
		j := i
		for j < n && space(text[j]) {
			j++
		}
		if j == n {
			break
		}
		if text[j] == '\n' {
			i, line, bol = j+1, line+1, j+1
			continue
		}
		rec := csvRecord{line: line, col: j - bol}
		for {
			for i < n && space(text[i]) && text[i] != '\r' {
				i++
			}
			f := csvField{line: line, col: i - bol}
			if i < n && text[i] == '"' {
				f.quoted = true
				open, openCol := line, i-bol
				i++
				var b strings.Builder
				for {
					if i >= n {
						return nil, csvError{open, openCol, "a quoted value is not closed (a \" inside a quoted value is written \"\")"}
					}
					c := text[i]
					if c == '"' {
						if i+1 < n && text[i+1] == '"' {
							b.WriteByte('"')
							i += 2
							continue
						}
						i++
						break
					}
					if c == '\r' && i+1 < n && text[i+1] == '\n' {
						i++
						continue
					}
					if c == '\n' {
						line, bol = line+1, i+1
					}
					b.WriteByte(c)
					i++
				}
				f.value = b.String()
				for i < n && space(text[i]) {
					i++
				}
				if i < n && text[i] != ',' && text[i] != '\n' {
					return nil, csvError{line, i - bol, "text after the closing quote of a value (quote the whole value, and write a \" inside it as \"\")"}
				}
			} else {
				start := i
				for i < n && text[i] != ',' && text[i] != '\n' {
					if text[i] == '"' {
						return nil, csvError{line, i - bol, "a \" inside a value that is not quoted (quote the whole value, and write a \" inside it as \"\")"}
					}
					i++
				}
				f.value = strings.TrimSpace(text[start:i])
			}
			rec.fields = append(rec.fields, f)
			if i < n && text[i] == ',' {
				i++
				continue
			}
			if i < n {
				i, line, bol = i+1, line+1, i+1
			}
			break
		}
		out = append(out, rec)
	}
	return out, nil
}

// FixturePath is where a fixture: lives in the project: a path relative to
// the project (tests/fixtures/x.csv), or, as in dbt, a bare name looked up
// in tests/fixtures/ with the format's extension. A path that leaves the
// project is refused.
func FixturePath(name, format string) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", errors.New("fixture is empty (expected a file such as tests/fixtures/orders.csv)")
	}
	if strings.Contains(name, "\\") {
		name = strings.ReplaceAll(name, "\\", "/")
	}
	if path.IsAbs(name) || len(name) > 1 && name[1] == ':' {
		return "", fmt.Errorf("fixture %q is outside the project (expected a path relative to the project, such as tests/fixtures/orders.csv)", name)
	}
	if !strings.Contains(name, "/") && path.Ext(name) == "" {
		name = "tests/fixtures/" + name + "." + format
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("fixture %q is outside the project (expected a path relative to the project, such as tests/fixtures/orders.csv)", name)
	}
	return clean, nil
}

func (d *decoder) unitOverrides(n *yaml.Node) UnitOverrides {
	o := UnitOverrides{Pos: d.pos(n), MacroPos: map[string]diag.Pos{}, VarPos: map[string]diag.Pos{}, EnvVarPos: map[string]diag.Pos{}}
	f := d.mapping(n, "overrides", unitOverrideKeys...)
	if x, ok := f["vars"]; ok {
		o.Vars = map[string]any{}
		var r VarReader
		for _, kv := range d.pairs(x.value, "vars") {
			v, err := r.Value(kv.value)
			if err != nil {
				d.errorf(kv.value, "var %s: %v", kv.key.Value, err)
				var limit *VarLimitError
				if errors.As(err, &limit) {
					break // the bound is spent: the vars after would all say so
				}
			}
			o.Vars[kv.key.Value] = v
			o.VarPos[kv.key.Value] = d.pos(kv.key)
		}
	}
	if x, ok := f["env_vars"]; ok {
		o.EnvVars = map[string]string{}
		for _, kv := range d.pairs(x.value, "env_vars") {
			o.EnvVars[kv.key.Value] = d.str(kv.value, "env var "+kv.key.Value)
			o.EnvVarPos[kv.key.Value] = d.pos(kv.key)
		}
	}
	if x, ok := f["run_started_at"]; ok {
		o.RunStartedAt = d.clock(x.value)
	}
	if x, ok := f["macros"]; ok {
		for _, kv := range d.pairs(x.value, "macros") {
			switch name := kv.key.Value; name {
			case "is_incremental":
				b := d.boolean(kv.value, "is_incremental")
				o.IsIncremental, o.IsIncrementalPos = &b, d.pos(kv.key)
			case "run_started_at":
				o.RunStartedAt = d.clock(kv.value)
			default:
				v := resolve(kv.value)
				if v == nil || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
					d.errorf(kv.value, "macro override %s must be the SQL text the macro is replaced by, got %s", name, kindName(v))
					continue
				}
				if o.Macros == nil {
					o.Macros = map[string]string{}
				}
				o.Macros[name] = v.Value
				o.MacroPos[name] = d.pos(kv.key)
			}
		}
	}
	return o
}

// clock reads a frozen run_started_at: an RFC 3339 time or a date, as UTC
// in the form run_started_at renders.
func (d *decoder) clock(n *yaml.Node) string {
	s := d.str(n, "run_started_at")
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	d.errorf(n, "run_started_at %q is not a time (expected e.g. 2024-03-01T00:00:00Z or 2024-03-01)", s)
	return ""
}

// readFixtures reads the fixture files the unit tests name, and sums each
// test for state:modified.
func (p *Project) readFixtures(fsys fs.FS, diags *diag.List) {
	for _, t := range p.UnitTests {
		var sum strings.Builder
		fmt.Fprintf(&sum, "%v|%v|%v|%v|%v", t.Model, t.Description, t.Tags, t.Enabled, t.Overrides.Vars)
		fmt.Fprintf(&sum, "|%v|%v|%v|%v|%v", t.Overrides.EnvVars, t.Overrides.IsIncremental != nil && *t.Overrides.IsIncremental, t.Overrides.Macros, t.Overrides.RunStartedAt, t.Overrides.IsIncremental == nil)
		rows := []*UnitRows{&t.Expect}
		for _, g := range t.Given {
			rows = append(rows, &g.UnitRows)
			sum.WriteString("|" + g.Input)
		}
		for _, r := range rows {
			if r.Fixture != "" {
				b, err := fs.ReadFile(fsys, r.Fixture)
				if err != nil {
					diags.Errorf(r.Pos, "fixture %s: %v", r.Fixture, unwrapPathErr(err))
					continue
				}
				b = stripBOM(b)
				if r.Format == "sql" {
					r.SQL, r.SQLFile = string(b), r.Fixture
				} else if err := ParseUnitCSV(r, r.Fixture, diag.Origin{}, string(b)); err != nil {
					diags.Add(r.Pos, err)
				}
			}
			fmt.Fprintf(&sum, "|%s|%v|%s", r.Format, r.Columns, r.SQL)
			for _, row := range r.Rows {
				for _, c := range r.Columns {
					if v := row.Values[c]; v != nil {
						sum.WriteString("|" + *v)
					} else {
						sum.WriteString("|\x00")
					}
				}
			}
		}
		t.Checksum = Checksum([]byte(sum.String()))
	}
}
