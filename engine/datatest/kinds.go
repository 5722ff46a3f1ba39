package datatest

import (
	"fmt"
	"strings"
	"time"

	"strata/engine/pgname"
)

// kinds are the built-in generic tests, one entry each: all that
// the loader, the manifest, compile, the runner and docs/tests.md know about
// a kind. They all ask this table; none of them names a kind.
//
// To add a kind: add its entry here (name, doc, whether it checks one
// column, its arguments in the order they are checked, examples and its
// SQL, which returns the failing rows); then `go test ./engine/datatest
// -update` (or make golden) writes its row in the tables of docs/tests.md.
// TestKindsAreComplete says what an entry lacks. A check in the SQL fails a
// test that the argument checks let through. Custom generic tests (macros
// test_<name>) are not here: a kind that is not in this table is one.
var kinds = []Kind{
	{
		Name: "not_null", Column: true,
		Doc:      "rows where the column is NULL",
		Examples: []Example{{Column: "order_id", Test: "not_null"}},
		SQL: func(s Spec) (string, error) {
			return fmt.Sprintf("select * from %s where %s is null", s.from(""), s.col()), nil
		},
		Detect: func(s Spec) string { return fmt.Sprintf("count(*) filter (where %s is null)", s.col()) },
		Exact:  true,
	},
	{
		Name: "unique", Column: true, Sample: "unique_field",
		Doc:      "values that appear more than once (NULLs are ignored)",
		Examples: []Example{{Column: "order_id", Test: "unique"}},
		SQL: func(s Spec) (string, error) {
			col := s.col()
			return fmt.Sprintf("select %s as unique_field, count(*) as n_records from %s where %s is not null group by %s having count(*) > 1", col, s.from(""), col, col), nil
		},
		// The rows beyond one per value: a sort of the column, where the
		// grouping above builds a hash table of every value.
		Detect: func(s Spec) string { return fmt.Sprintf("count(%s) - count(distinct %s)", s.col(), s.col()) },
	},
	{
		Name: "accepted_values", Column: true, Sample: "value_field",
		Doc: "values not in the list (NULLs are ignored). With `quote: false` the values are compared as written, without quotes (numbers)",
		Args: []Arg{
			{Name: "quote", Type: typeBool, Doc: "default `true`"},
			{Name: "values", Type: typeValues, Required: true, Doc: "a list"},
		},
		Examples: []Example{
			{Column: "status", Test: "accepted_values: {values: [placed, shipped, delivered]}"},
			{Column: "rating", Test: "accepted_values: {values: [1, 2, 3, 4, 5], quote: false}"},
		},
		SQL: func(s Spec) (string, error) {
			vals, ok := s.Args["values"].([]any)
			if !ok || len(vals) == 0 {
				return "", fmt.Errorf("accepted_values needs a non-empty list of values")
			}
			// dbt quotes accepted values unless quote: false: a number written
			// in YAML must still compare with a text column.
			quote := true
			if q, ok := s.Args["quote"].(bool); ok {
				quote = q
			}
			lits := make([]string, len(vals))
			for i, v := range vals {
				if quote {
					lits[i] = pgname.Literal(textOf(v))
				} else {
					lits[i] = literalOf(v)
				}
			}
			col := s.col()
			return fmt.Sprintf("select %s as value_field, count(*) as n_records from %s where %s is not null and %s not in (%s) group by %s", col, s.from(""), col, col, strings.Join(lits, ", "), col), nil
		},
	},
	{
		Name: "relationships", Column: true, Sample: "from_field",
		Doc: "values that have no matching `field` in `to` (NULLs are ignored): a foreign key check",
		Args: []Arg{
			{Name: "to", Type: typeRef, Required: true, Doc: "a model or seed, or a source table: `source('src', 'table')`"},
			{Name: "field", Type: typeString, Required: true, Doc: "its column"},
		},
		Examples: []Example{{Column: "customer_id", Test: "relationships: {to: dim_customers, field: customer_id}"}},
		SQL: func(s Spec) (string, error) {
			to, err := s.resolve("to")
			if err != nil {
				return "", err
			}
			field, _ := s.Args["field"].(string)
			if field == "" {
				return "", fmt.Errorf("relationships needs field")
			}
			col := s.col()
			return fmt.Sprintf("select child.%s as from_field, count(*) as n_records from %s where child.%s is not null and not exists (select 1 from %s as parent where parent.%s = child.%s) group by child.%s", col, s.from("child"), col, to, pgname.Ident(field), col, col), nil
		},
	},
	{
		Name: "accepted_range", Column: true,
		Doc: "rows whose value is below `min` or above `max` (NULLs are ignored)",
		Args: []Arg{
			{Name: "min", Type: typeBound, Doc: "at least one; numbers, dates or text"},
			{Name: "max", Type: typeBound, Doc: "at least one; numbers, dates or text"},
			{Name: "inclusive", Type: typeBool, Doc: "default `true`"},
		},
		Check: func(args map[string]any) error {
			_, hasMin := args["min"]
			_, hasMax := args["max"]
			if !hasMin && !hasMax {
				return fmt.Errorf("needs min, max or both")
			}
			return nil
		},
		Examples: []Example{
			{Column: "quantity", Test: "accepted_range: {min: 1, max: 1000}"},
			{Column: "unit_price", Test: "accepted_range: {min: 0, inclusive: false}"},
		},
		SQL: func(s Spec) (string, error) {
			var conds []string
			inclusive := true
			if b, ok := s.Args["inclusive"].(bool); ok {
				inclusive = b
			}
			ge, le := ">=", "<="
			if !inclusive {
				ge, le = ">", "<"
			}
			col := s.col()
			if v, ok := s.Args["min"]; ok {
				conds = append(conds, fmt.Sprintf("%s %s %s", col, ge, literalOf(v)))
			}
			if v, ok := s.Args["max"]; ok {
				conds = append(conds, fmt.Sprintf("%s %s %s", col, le, literalOf(v)))
			}
			if len(conds) == 0 {
				return "", fmt.Errorf("accepted_range needs min, max or both")
			}
			return fmt.Sprintf("select * from %s where %s is not null and not (%s)", s.from(""), col, strings.Join(conds, " and ")), nil
		},
	},
	{
		Name:     "expression_is_true",
		Doc:      "rows where the expression is false. On a column the column is put in front: `{expression: \">= start_date\"}` under `end_date` checks `end_date >= start_date`. A row where it is NULL passes, as in dbt: add `is true` or `coalesce` to fail those",
		Args:     []Arg{{Name: "expression", Type: typeString, Required: true}},
		Examples: []Example{{Test: "expression_is_true: {expression: \"total_amount >= 0\"}"}},
		SQL: func(s Spec) (string, error) {
			expr, _ := s.Args["expression"].(string)
			if expr == "" {
				return "", fmt.Errorf("expression_is_true needs an expression")
			}
			if s.Column != "" {
				expr = s.col() + " " + expr
			}
			// As in dbt, a row whose expression is NULL passes: "not (NULL)" is
			// NULL, which where filters out.
			return fmt.Sprintf("select * from %s where not (%s)", s.from(""), expr), nil
		},
	},
	{
		Name:     "unique_combination",
		Doc:      "combinations of the columns that appear more than once",
		Args:     []Arg{{Name: "columns", Type: typeColumns, Required: true, Doc: "a list"}},
		Examples: []Example{{Test: "unique_combination: {columns: [order_id, line_number]}"}},
		SQL: func(s Spec) (string, error) {
			raw, _ := s.Args["columns"].([]any)
			if len(raw) == 0 {
				return "", fmt.Errorf("unique_combination needs columns")
			}
			cols := make([]string, len(raw))
			for i, c := range raw {
				cols[i] = pgname.Ident(fmt.Sprint(c))
			}
			list := strings.Join(cols, ", ")
			return fmt.Sprintf("select %s, count(*) as n_records from %s group by %s having count(*) > 1", list, s.from(""), list), nil
		},
	},
	{
		Name:     "equal_row_count",
		Doc:      "when the two row counts differ",
		Args:     []Arg{{Name: "to", Type: typeRef, Required: true, Doc: "a model or seed, or a source table: `source('src', 'table')`"}},
		Examples: []Example{{Test: "equal_row_count: {to: stg_orders}"}},
		SQL: func(s Spec) (string, error) {
			to, err := s.resolve("to")
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("select * from (select (select count(*) from %s) as row_count, (select count(*) from %s) as other_row_count) as counts where row_count <> other_row_count", s.from(""), to), nil
		},
		Explain: func(s Spec) string {
			to, _ := s.Args["to"].(string)
			return fmt.Sprintf("format('%%s%%s; %%s has %%s', %s, %s, %s, other_row_count)", rowsText("row_count"), whereText(s), pgname.Literal(to))
		},
	},
	{
		Name: "row_count",
		Doc:  "when the row count is below `min` or above `max`",
		Args: []Arg{
			{Name: "min", Type: typeNumber, Doc: "at least one"},
			{Name: "max", Type: typeNumber, Doc: "at least one"},
		},
		Examples: []Example{{Test: "row_count: {min: 1000, max: 1000000}"}},
		SQL: func(s Spec) (string, error) {
			var conds []string
			if v, ok := s.Args["min"]; ok {
				conds = append(conds, fmt.Sprintf("row_count < %s", literalOf(v)))
			}
			if v, ok := s.Args["max"]; ok {
				conds = append(conds, fmt.Sprintf("row_count > %s", literalOf(v)))
			}
			if len(conds) == 0 {
				return "", fmt.Errorf("row_count needs min, max or both")
			}
			return fmt.Sprintf("select * from (select count(*) as row_count from %s) as counts where %s", s.from(""), strings.Join(conds, " or ")), nil
		},
		Explain: func(s Spec) string {
			var whens []string
			if v, ok := s.Args["min"]; ok {
				whens = append(whens, fmt.Sprintf("when row_count < %s then %s", literalOf(v), pgname.Literal("fewer than min "+textOf(v))))
			}
			if v, ok := s.Args["max"]; ok {
				whens = append(whens, fmt.Sprintf("when row_count > %s then %s", literalOf(v), pgname.Literal("more than max "+textOf(v))))
			}
			return fmt.Sprintf("format('%%s%%s: %%s', %s, %s, case %s end)", rowsText("row_count"), whereText(s), strings.Join(whens, " "))
		},
	},
	{
		Name:     "not_empty",
		Doc:      "when there is no row",
		Examples: []Example{{Test: "not_empty"}},
		SQL: func(s Spec) (string, error) {
			return fmt.Sprintf("select 'no rows' as problem where not exists (select 1 from %s)", s.from("")), nil
		},
		Explain: func(s Spec) string {
			return fmt.Sprintf("'no rows' || %s", whereText(s))
		},
	},
	{
		Name: "recency",
		Doc:  "when the newest `field` is older than `max_age` before now (before today for a `date` column), or there is none",
		Args: []Arg{
			{Name: "field", Type: typeString, Required: true},
			{Name: "max_age", Type: typeDuration, Required: true, Doc: "`30m`, `24h`, `7d`"},
		},
		Examples: []Example{{Test: "recency: {field: ordered_at, max_age: 7d}"}},
		SQL: func(s Spec) (string, error) {
			field, _ := s.Args["field"].(string)
			age, _ := s.Args["max_age"].(string)
			d, err := ParseDuration(age)
			if err != nil {
				return "", err
			}
			f := pgname.Ident(field)
			m := "max(" + f + ")"
			return fmt.Sprintf("select %s as most_recent from %s having %s is null or %s < %s", m, s.from(""), m, m, before(m, d.Interval())), nil
		},
		Explain: func(s Spec) string {
			field, _ := s.Args["field"].(string)
			age, _ := s.Args["max_age"].(string)
			return fmt.Sprintf("case when most_recent is null then %s || %s else format('the newest %%s is %%s, %%s ago: older than max_age %%s', %s, most_recent, %s, %s) end",
				pgname.Literal(fmt.Sprintf("no row has a value in %q", field)), whereText(s), pgname.Literal(fmt.Sprintf("%q", field)), AgeText("most_recent"), pgname.Literal(age))
		},
	},
	// strata writes a freshness test for each source table with freshness:
	// (and a loaded_at_field): it warns when the newest loaded_at_field is
	// older than warn_after and fails when it is older than error_after; a
	// table with no rows fails (warns, without error_after). docs/tests.md
	// leaves it out: the sources' docs describe it.
	{
		Name: "freshness", Level: "level", Internal: true,
		Args: []Arg{
			{Name: "field", Type: typeString, Required: true},
			{Name: "warn_after", Type: typeDuration},
			{Name: "error_after", Type: typeDuration},
		},
		Examples: []Example{{Test: "freshness: {field: _loaded_at, warn_after: 12h, error_after: 24h}"}},
		// The column level of a failing row says whether the newest row is
		// past error_after ('error') or only past warn_after ('warn').
		SQL: func(s Spec) (string, error) {
			field, _ := s.Args["field"].(string)
			m := "max(" + pgname.Ident(field) + ")"
			warn, _ := s.Args["warn_after"].(string)
			errAfter, _ := s.Args["error_after"].(string)
			var conds []string
			level := "'warn'"
			if errAfter != "" {
				d, err := ParseDuration(errAfter)
				if err != nil {
					return "", err
				}
				level = fmt.Sprintf("case when %s is null or %s < %s then 'error' else 'warn' end", m, m, before(m, d.Interval()))
				conds = append(conds, fmt.Sprintf("%s < %s", m, before(m, d.Interval())))
			}
			if warn != "" {
				d, err := ParseDuration(warn)
				if err != nil {
					return "", err
				}
				conds = append(conds, fmt.Sprintf("%s < %s", m, before(m, d.Interval())))
			}
			if len(conds) == 0 {
				return "", fmt.Errorf("freshness needs warn_after or error_after")
			}
			return fmt.Sprintf("select %s as max_loaded_at, %s as level from %s having %s is null or %s", m, level, s.from(""), m, strings.Join(conds, " or ")), nil
		},
	},
}

// before is the moment age before the moment the age of x, a recency or
// freshness test's newest value, is counted from: today (current_date, at its
// midnight) when x is a date, whose age is whole days, the clock (now())
// otherwise. A date's is counted on the calendar (current_date - interval,
// a local time): counted in elapsed time from today's midnight, 24h would
// reach back into yesterday past its midnight on the day after a
// daylight-saving change of the session's time zone, and yesterday fail.
func before(x, age string) string {
	return fmt.Sprintf("(case when pg_typeof(%[1]s) = 'date'::regtype then current_date - interval %[2]s else now() - interval %[2]s end)", x, pgname.Literal(age))
}

// AgeText is the text of x's age, counted as before(x, ...) counts it: "1 day", "3
// days" for a date (not "2 days 13:45:12"), an interval to the second
// ("1 day 06:00:00") for a timestamp. A freshness test's message says it too.
func AgeText(x string) string {
	return fmt.Sprintf("case when pg_typeof(%[1]s) = 'date'::regtype then (current_date - %[1]s)::text || case when (current_date - %[1]s)::text = '1' then ' day' else ' days' end else justify_interval(date_trunc('second', now() - %[1]s))::text end", x)
}

// DefaultSeverity is the severity of a test that sets none: every kind's,
// custom generic and singular tests' too. A kind whose query says how bad
// its failure is names that column in Kind.Level.
const DefaultSeverity = "error"

// Kind is a built-in generic test.
type Kind struct {
	Name string
	// Doc says what fails the test, for docs/tests.md (internal kinds are
	// not there).
	Doc string
	// Column: the test checks one column, so it belongs under a column's
	// tests: and its SQL needs the column.
	Column bool
	// Args are the kind's arguments in the order they are checked; the
	// loader refuses any other key that is not test config.
	Args []Arg
	// Check checks the arguments together, before each is checked alone (nil: nothing to check).
	Check func(args map[string]any) error
	// SQL renders the query that returns the failing rows (a column test
	// gets its column: SQL checks it is there).
	SQL func(s Spec) (string, error)
	// Sample is the column of the failing rows whose first values a failure
	// message shows ("": none).
	Sample string
	// Explain, when set, renders a text expression over the one row a
	// failing test of the kind returns, saying what is wrong in the failure
	// message ("3 rows: fewer than min 5"), where a count of failing rows
	// says nothing (nil: the count, and Sample's values).
	Explain func(s Spec) string
	// Level is the column of the failing rows that says warn or error,
	// whatever the test's severity ("": the severity and thresholds decide).
	Level string
	// Detect, when set, renders an aggregate over the tested relation
	// (after the test's where) that is 0 when the test passes and costs
	// less than counting SQL's rows. The runner asks it first, in one scan
	// with the other tests of the relation that have one, and counts and
	// shows the failing rows with SQL only when it is not 0 (see
	// Detection). Exact: it is the count of failures itself.
	Detect func(s Spec) string
	Exact  bool
	// Internal: strata makes the tests of this kind itself (freshness, from
	// a source table's freshness:). The loader does not know it as a
	// built-in test, and its arguments, checked where strata reads them, are
	// not checked again.
	Internal bool
	// Examples are uses of the kind that together use every argument:
	// TestKindsAreComplete checks that they pass the checks and render, and
	// that the SQL reads each argument.
	Examples []Example
}

// Arg is an argument of a built-in generic test.
type Arg struct {
	Name     string
	Type     *Type
	Required bool
	// Doc is a note on the argument for docs/tests.md (a list, default
	// true); the arguments in a row with one note share it.
	Doc string
}

// Example is a test as written in a YAML file.
type Example struct {
	Column string // the column whose tests: it is under; "" for the model's tests:
	Test   string // the tests: entry
}

// Type is the type of an argument: its check.
type Type struct {
	// check returns the problem with v, the argument name's value.
	check func(name string, v any) error
	// missing: a missing argument is checked too, as a nil value. It is
	// then reported twice, by the loader as missing and by this check, as
	// strata always did for columns and max_age.
	missing bool
	// loaded is the check the loader makes as it reads the test (nil: none).
	loaded func(name string, v any) error
}

var (
	typeString = &Type{check: checkString}
	typeRef    = &Type{check: checkString}
	typeBool   = &Type{check: func(name string, v any) error {
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s must be true or false", name)
		}
		return nil
	}}
	typeNumber = &Type{check: func(name string, v any) error {
		switch v.(type) {
		case int, int64, float64, string:
			return nil
		}
		return fmt.Errorf("%s must be a number", name)
	}}
	// A bound may be a date, a timestamp or a string as well as a number: it
	// is compared with a column of that type.
	typeBound = &Type{check: func(name string, v any) error {
		switch v.(type) {
		case int, int64, float64, string, time.Time:
			return nil
		}
		return fmt.Errorf("%s must be a number, a date, a timestamp or a string, got %v", name, v)
	}}
	typeValues = &Type{loaded: checkNonEmptyList, check: func(name string, v any) error {
		if err := checkNonEmptyList(name, v); err != nil {
			return err
		}
		for _, x := range v.([]any) {
			switch x.(type) {
			case map[string]any, []any, nil:
				return fmt.Errorf("%s must be plain values, got %v", name, x)
			}
		}
		return nil
	}}
	typeColumns = &Type{missing: true, check: func(name string, v any) error {
		cols, ok := v.([]any)
		if !ok || len(cols) == 0 {
			return fmt.Errorf("%s must be a non-empty list of column names", name)
		}
		for _, c := range cols {
			if _, ok := c.(string); !ok {
				return fmt.Errorf("%s must be a list of column names", name)
			}
		}
		return nil
	}}
	typeDuration = &Type{missing: true, check: func(name string, v any) error {
		s, _ := v.(string)
		if _, err := ParseDuration(s); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		return nil
	}}
)

func checkString(name string, v any) error {
	if _, ok := v.(string); !ok {
		return fmt.Errorf("%s must be a string", name)
	}
	return nil
}

func checkNonEmptyList(name string, v any) error {
	if l, ok := v.([]any); !ok || len(l) == 0 {
		return fmt.Errorf("%s must be a non-empty list", name)
	}
	return nil
}

// Lookup returns the built-in kind of that name, internal ones included
// (the registry's own entry: read it, never change it); nil for a custom
// generic test.
func Lookup(name string) *Kind {
	for i := range kinds {
		if kinds[i].Name == name {
			return &kinds[i]
		}
	}
	return nil
}

// Names returns the names of the built-in kinds a project may use.
func Names() []string {
	var out []string
	for _, k := range kinds {
		if !k.Internal {
			out = append(out, k.Name)
		}
	}
	return out
}

// RefArgs returns the arguments of a generic test of that kind that name a
// model or seed the test depends on. For a custom generic test (and an
// internal kind, whose arguments are not declared to the loader) that is
// to, as in dbt.
func RefArgs(kind string) []string {
	k := Lookup(kind)
	if k == nil || k.Internal {
		return []string{"to"}
	}
	var out []string
	for _, a := range k.Args {
		if a.Type == typeRef {
			out = append(out, a.Name)
		}
	}
	return out
}

// Required returns the names of the required arguments, in order.
func (k *Kind) Required() []string { return k.argNames(true) }

// Optional returns the names of the optional arguments, in order.
func (k *Kind) Optional() []string { return k.argNames(false) }

func (k *Kind) argNames(required bool) []string {
	var out []string
	for _, a := range k.Args {
		if a.Required == required {
			out = append(out, a.Name)
		}
	}
	return out
}

// LoadProblems returns what the loader reports about a test of this kind
// as it reads it from YAML: a missing argument, a column test on a model's
// tests:, an argument whose YAML is of the wrong shape.
func (k *Kind) LoadProblems(args map[string]any, onColumn bool) []string {
	var out []string
	for _, r := range k.Required() {
		if _, ok := args[r]; !ok {
			out = append(out, fmt.Sprintf("test %s needs the argument %q", k.Name, r))
		}
	}
	if k.Column && !onColumn {
		out = append(out, fmt.Sprintf("test %s belongs under a column's tests: (it checks one column)", k.Name))
	}
	for _, a := range k.Args {
		if v, ok := args[a.Name]; ok && a.Type.loaded != nil {
			if err := a.Type.loaded(a.Name, v); err != nil {
				out = append(out, fmt.Sprintf("%s: %v", k.Name, notRendered(v, err)))
			}
		}
	}
	return out
}

// CheckArgs returns the first problem with the arguments: Check, then each
// argument's type in order. An argument that fails the check the loader
// makes as it reads the test (LoadProblems) is passed over: the loader
// reported it, and said twice it hid the next argument's problem.
func (k *Kind) CheckArgs(args map[string]any) error {
	if k.Internal {
		return nil
	}
	if k.Check != nil {
		if err := k.Check(args); err != nil {
			return err
		}
	}
	for _, a := range k.Args {
		v, ok := args[a.Name]
		if !ok && !a.Type.missing {
			continue
		}
		if ok && a.Type.loaded != nil && a.Type.loaded(a.Name, v) != nil {
			continue
		}
		if err := a.Type.check(a.Name, v); err != nil {
			return notRendered(v, err)
		}
	}
	return nil
}

// notRendered adds to err, about an argument whose value v is a string
// holding a template ({{ var "x" }}, dbt's {{ var('x') }}), that YAML is
// not rendered: dbt renders it, so a project moved from dbt may have one.
func notRendered(v any, err error) error {
	if s, ok := v.(string); ok && strings.Contains(s, "{{") {
		return fmt.Errorf("%w; %q is taken as written: strata does not render templates in YAML, so write the value itself", err, s)
	}
	return err
}

// rowsText is a count column of a failing row as text: "1 row", "3 rows".
func rowsText(col string) string {
	return fmt.Sprintf("%s || case when %s = 1 then ' row' else ' rows' end", col, col)
}

// whereText is the test's where as a text to add to a message (" where
// x > 0"), an empty text when it has none.
func whereText(s Spec) string {
	if s.Where == "" {
		return "''"
	}
	return pgname.Literal(" where " + s.Where)
}
