// Package datatest knows the data tests: the built-in generic tests
// (kinds.go: their arguments, checks, SQL and docs, in one table),
// the data a custom generic test's macro gets, and test durations. It is
// pure: it quotes every identifier and literal it is given and executes
// nothing.
package datatest

import (
	"fmt"
	"sort"
	"time"

	"strata/engine/pgname"
)

// Spec is one generic test to render.
type Spec struct {
	Kind     string
	Relation string // quoted relation under test
	Column   string // unquoted column, "" for model-level tests
	Args     map[string]any
	Where    string // SQL filter on the relation, from the test's where config
	// Resolve returns the quoted relation of a model or seed named in an argument (relationships.to, equal_row_count.to).
	Resolve func(name string) (string, error)
}

// SQL renders the query returning the failing rows of a built-in test.
func SQL(s Spec) (string, error) {
	k := Lookup(s.Kind)
	if k == nil {
		return "", fmt.Errorf("unknown test %q", s.Kind)
	}
	if k.Column && s.Column == "" {
		return "", fmt.Errorf("test %s needs a column", s.Kind)
	}
	return k.SQL(s)
}

// Explanation is a text expression over the one row a failing test of a
// built-in kind returns that says what is wrong ("3 rows: fewer than min
// 5"); "" for a kind whose failing rows are the failures themselves.
func Explanation(s Spec) string {
	k := Lookup(s.Kind)
	if k == nil || k.Explain == nil {
		return ""
	}
	return k.Explain(s)
}

// Detection is the cheap check of a built-in test (Kind.Detect): Expr, an
// aggregate over From (the tested relation as it goes after FROM) that is
// 0 when the test passes; Exact when Expr is the test's count of failures.
// Tests with the same From share one scan: select e1, e2, ... from From.
type Detection struct {
	Expr, From string
	Exact      bool
}

// Detect is the detection of a built-in test; zero for a kind that has
// none (or an unknown one).
func Detect(s Spec) Detection {
	k := Lookup(s.Kind)
	if k == nil || k.Detect == nil || (k.Column && s.Column == "") {
		return Detection{}
	}
	return Detection{Expr: k.Detect(s), From: s.from(""), Exact: k.Exact}
}

// Query is the detection as a query of its own: one row, one count.
func (d Detection) Query() string { return "select " + d.Expr + " from " + d.From }

// Filtered is the relation under test as it goes after FROM, filtered by
// the test's where ("": not filtered).
func Filtered(relation, where string) string {
	return Spec{Relation: relation, Where: where}.from("")
}

// from is the relation under test, filtered by the test's where, as it
// goes after FROM, under alias if one is given.
func (s Spec) from(alias string) string {
	switch {
	case s.Where != "" && alias == "":
		alias = "strata_filtered"
	case s.Where == "" && alias == "":
		return s.Relation
	case s.Where == "":
		return s.Relation + " as " + alias
	}
	return fmt.Sprintf("(select * from %s where %s) as %s", s.Relation, s.Where, alias)
}

// col is the column under test, quoted.
func (s Spec) col() string { return pgname.Ident(s.Column) }

// resolve returns the relation of the model or seed named in the argument arg.
func (s Spec) resolve(arg string) (string, error) {
	name, _ := s.Args[arg].(string)
	if name == "" {
		return "", fmt.Errorf("%s needs %s", s.Kind, arg)
	}
	if s.Resolve == nil {
		return "", fmt.Errorf("cannot resolve %q", name)
	}
	return s.Resolve(name)
}

// literalOf renders a YAML value as SQL: numbers and booleans as they are,
// all else (strings, dates, timestamps) as a quoted literal of textOf.
func literalOf(v any) string {
	switch v.(type) {
	case int, int64, float64, bool:
		return textOf(v)
	}
	return pgname.Literal(textOf(v))
}

// textOf is a YAML value as the text PostgreSQL reads: an unquoted YAML date
// (decoded as a time.Time at midnight UTC) as its date, a timestamp in
// RFC 3339, since Go's default format is not one PostgreSQL parses.
func textOf(v any) string {
	t, ok := v.(time.Time)
	if !ok {
		return fmt.Sprint(v)
	}
	h, m, sec := t.Clock()
	if t.Location() == time.UTC && h == 0 && m == 0 && sec == 0 && t.Nanosecond() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// Duration is an age: a recency test's max_age, a source's warn_after
// and error_after.
type Duration struct {
	N    int64
	Unit string // seconds, minutes, hours or days
}

var durationUnits = map[string]string{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

// ParseDuration reads an age written as 30m, 24h or 7d (s, m, h, d; not negative).
func ParseDuration(s string) (Duration, error) {
	var n int64
	var unit string
	if _, err := fmt.Sscanf(s, "%d%s", &n, &unit); err != nil || n < 0 || durationUnits[unit] == "" {
		return Duration{}, fmt.Errorf("expected a duration such as 30m, 24h or 7d, got %q", s)
	}
	return Duration{N: n, Unit: durationUnits[unit]}, nil
}

// Interval is the duration as the text of a PostgreSQL interval: 24 hours.
func (d Duration) Interval() string { return fmt.Sprintf("%d %s", d.N, d.Unit) }

// CustomFields are the names every custom generic test's macro
// (test_<name>) gets in its data besides the test's arguments.
var CustomFields = []string{"relation", "column", "column_name", "model"}

// CustomData is what a custom generic test macro (test_<name>) sees as dot:
// .relation, .column, .model (CustomFields) and each argument by name.
func CustomData(relation, column string, args map[string]any) map[string]any {
	d := map[string]any{"relation": relation, "column": column, "column_name": column, "model": relation}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d[k] = args[k]
	}
	return d
}
