// Package datatest turns data tests into SQL: each generic test of SPEC 5
// becomes a query that returns the failing rows. It is pure: it quotes every
// identifier and literal it is given and executes nothing.
package datatest

import (
	"fmt"
	"sort"
	"strings"
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
	// from is the relation under test, filtered by the test's where, as it
	// goes after FROM, under alias if one is given.
	from := func(alias string) string {
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
	rel := from("")
	col := pgname.Ident(s.Column)
	needCol := map[string]bool{"not_null": true, "unique": true, "accepted_values": true, "relationships": true, "accepted_range": true}
	if needCol[s.Kind] && s.Column == "" {
		return "", fmt.Errorf("test %s needs a column", s.Kind)
	}
	switch s.Kind {
	case "not_null":
		return fmt.Sprintf("select * from %s where %s is null", rel, col), nil
	case "unique":
		return fmt.Sprintf("select %s as unique_field, count(*) as n_records from %s where %s is not null group by %s having count(*) > 1", col, rel, col, col), nil
	case "accepted_values":
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
		return fmt.Sprintf("select %s as value_field, count(*) as n_records from %s where %s is not null and %s not in (%s) group by %s", col, rel, col, col, strings.Join(lits, ", "), col), nil
	case "relationships":
		to, field, err := s.toAndField()
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("select child.%s as from_field, count(*) as n_records from %s where child.%s is not null and not exists (select 1 from %s as parent where parent.%s = child.%s) group by child.%s", col, from("child"), col, to, pgname.Ident(field), col, col), nil
	case "accepted_range":
		var conds []string
		inclusive := true
		if b, ok := s.Args["inclusive"].(bool); ok {
			inclusive = b
		}
		ge, le := ">=", "<="
		if !inclusive {
			ge, le = ">", "<"
		}
		if v, ok := s.Args["min"]; ok {
			conds = append(conds, fmt.Sprintf("%s %s %s", col, ge, literalOf(v)))
		}
		if v, ok := s.Args["max"]; ok {
			conds = append(conds, fmt.Sprintf("%s %s %s", col, le, literalOf(v)))
		}
		if len(conds) == 0 {
			return "", fmt.Errorf("accepted_range needs min, max or both")
		}
		return fmt.Sprintf("select * from %s where %s is not null and not (%s)", rel, col, strings.Join(conds, " and ")), nil
	case "expression_is_true":
		expr, _ := s.Args["expression"].(string)
		if expr == "" {
			return "", fmt.Errorf("expression_is_true needs an expression")
		}
		if s.Column != "" {
			expr = col + " " + expr
		}
		// As in dbt, a row whose expression is NULL passes: "not (NULL)" is
		// NULL, which where filters out. Add "is true" or a coalesce to the
		// expression to fail such rows.
		return fmt.Sprintf("select * from %s where not (%s)", rel, expr), nil
	case "unique_combination":
		raw, _ := s.Args["columns"].([]any)
		if len(raw) == 0 {
			return "", fmt.Errorf("unique_combination needs columns")
		}
		cols := make([]string, len(raw))
		for i, c := range raw {
			cols[i] = pgname.Ident(fmt.Sprint(c))
		}
		list := strings.Join(cols, ", ")
		return fmt.Sprintf("select %s, count(*) as n_records from %s group by %s having count(*) > 1", list, rel, list), nil
	case "equal_row_count":
		to, err := s.resolve("to")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("select * from (select (select count(*) from %s) as row_count, (select count(*) from %s) as other_row_count) as counts where row_count <> other_row_count", rel, to), nil
	case "row_count":
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
		return fmt.Sprintf("select * from (select count(*) as row_count from %s) as counts where %s", rel, strings.Join(conds, " or ")), nil
	case "not_empty":
		return fmt.Sprintf("select 'no rows' as problem where not exists (select 1 from %s)", rel), nil
	case "recency":
		field, _ := s.Args["field"].(string)
		age, _ := s.Args["max_age"].(string)
		iv, err := interval(age)
		if err != nil {
			return "", err
		}
		f := pgname.Ident(field)
		return fmt.Sprintf("select max(%s) as most_recent from %s having max(%s) is null or max(%s) < now() - interval %s", f, rel, f, f, pgname.Literal(iv)), nil
	case "freshness":
		field, _ := s.Args["field"].(string)
		f := pgname.Ident(field)
		warn, _ := s.Args["warn_after"].(string)
		errAfter, _ := s.Args["error_after"].(string)
		var conds []string
		level := "'warn'"
		if errAfter != "" {
			iv, err := interval(errAfter)
			if err != nil {
				return "", err
			}
			level = fmt.Sprintf("case when max(%s) is null or max(%s) < now() - interval %s then 'error' else 'warn' end", f, f, pgname.Literal(iv))
			conds = append(conds, fmt.Sprintf("max(%s) < now() - interval %s", f, pgname.Literal(iv)))
		}
		if warn != "" {
			iv, err := interval(warn)
			if err != nil {
				return "", err
			}
			conds = append(conds, fmt.Sprintf("max(%s) < now() - interval %s", f, pgname.Literal(iv)))
		}
		if len(conds) == 0 {
			return "", fmt.Errorf("freshness needs warn_after or error_after")
		}
		return fmt.Sprintf("select max(%s) as max_loaded_at, %s as level from %s having max(%s) is null or %s", f, level, rel, f, strings.Join(conds, " or ")), nil
	}
	return "", fmt.Errorf("unknown test %q", s.Kind)
}

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

func (s Spec) toAndField() (string, string, error) {
	to, err := s.resolve("to")
	if err != nil {
		return "", "", err
	}
	field, _ := s.Args["field"].(string)
	if field == "" {
		return "", "", fmt.Errorf("relationships needs field")
	}
	return to, field, nil
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

// interval turns 24h / 30m / 7d into a PostgreSQL interval string.
func interval(s string) (string, error) {
	var n int
	var unit string
	if _, err := fmt.Sscanf(s, "%d%s", &n, &unit); err != nil {
		return "", fmt.Errorf("expected a duration such as 30m, 24h or 7d, got %q", s)
	}
	names := map[string]string{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
	u, ok := names[unit]
	if !ok {
		return "", fmt.Errorf("expected a duration such as 30m, 24h or 7d, got %q", s)
	}
	return fmt.Sprintf("%d %s", n, u), nil
}

// CustomData is what a custom generic test macro (test_<name>) sees as dot:
// .relation, .column, .model and each argument by name.
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
