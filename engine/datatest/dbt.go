package datatest

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

// dbtTest is a test of one of dbt's packages that strata has built in:
// strata's kind, and what strata calls each of its arguments that it names
// otherwise.
type dbtTest struct {
	pkg, kind string
	args      map[string]string
}

// dbtTests are the tests dbt projects take from packages that strata has
// built in (docs/coming-from-dbt.md#tests), by their name in the package.
var dbtTests = map[string]dbtTest{
	"accepted_range":                       {"dbt_utils", "accepted_range", map[string]string{"min_value": "min", "max_value": "max"}},
	"expression_is_true":                   {"dbt_utils", "expression_is_true", nil},
	"unique_combination_of_columns":        {"dbt_utils", "unique_combination", map[string]string{"combination_of_columns": "columns"}},
	"equal_rowcount":                       {"dbt_utils", "equal_row_count", map[string]string{"compare_model": "to"}},
	"recency":                              {"dbt_utils", "recency", map[string]string{"datepart": "max_age", "interval": "max_age"}},
	"expect_table_row_count_to_be_between": {"dbt_expectations", "row_count", map[string]string{"min_value": "min", "max_value": "max"}},
}

// DbtTest says which built-in test a test of dbt's packages is, written
// as a dbt project writes it (dbt_utils.unique_combination_of_columns, or
// without its package), and how its arguments are named here; ok is false
// when kind is no such test.
func DbtTest(kind string) (hint string, ok bool) {
	_, name, _ := strings.Cut(kind, ".")
	if name == "" {
		name = kind
	}
	t, ok := dbtTests[name]
	if !ok || kind == t.kind || Lookup(t.kind) == nil {
		return "", false
	}
	hint = "strata has no packages, and " + t.pkg + "' " + name + " is the built-in test " + t.kind
	var renamed []string
	for _, dbt := range slices.Sorted(maps.Keys(t.args)) {
		renamed = append(renamed, t.args[dbt]+" for "+dbt)
	}
	if len(renamed) > 0 {
		hint += ", with " + strings.Join(renamed, " and ")
	}
	ex := Lookup(t.kind).Examples
	return hint + ": " + ex[len(ex)-1].Test + " (docs/tests.md)", true
}

// DbtArg says what test kind calls an argument that a test of dbt's
// packages calls arg (dbt_utils' min_value is accepted_range's min); ok is
// false when kind has no such argument.
func DbtArg(kind, arg string) (hint string, ok bool) {
	for name, t := range dbtTests {
		if t.kind != kind {
			continue
		}
		if mine, ok := t.args[arg]; ok {
			hint = "it is " + t.pkg + "' spelling (of " + name + "): strata's " + kind + " calls it " + mine
			if kind == "recency" {
				hint += ", one duration for datepart and interval (max_age: 1d for datepart: day, interval: 1)"
			}
			return hint + " (docs/tests.md)", true
		}
	}
	return "", false
}

// DbtArgs are the arguments of the tests of dbt's packages that kind
// calls otherwise (DbtArg), sorted.
func DbtArgs(kind string) []string {
	var out []string
	for _, t := range dbtTests {
		if t.kind == kind {
			out = slices.AppendSeq(out, maps.Keys(t.args))
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
