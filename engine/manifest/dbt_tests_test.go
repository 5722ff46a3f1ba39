package manifest

import (
	"strings"
	"testing"
	"testing/fstest"

	"strata/engine/diag"
	"strata/engine/project"
)

// TestDbtPackageTests: a test of dbt_utils (or dbt_expectations) that
// strata has built in, written as a dbt project writes it, is an error that
// names the built-in test and its arguments, at the test; each argument
// dbt_utils names otherwise is an error at its place naming strata's, under
// arguments: or beside the settings; strata's spelling loads.
func TestDbtPackageTests(t *testing.T) {
	for _, c := range []struct {
		test string
		want []string // the errors, each in part; none: it loads
	}{
		{"dbt_utils.unique_combination_of_columns: {combination_of_columns: [id, n]}",
			[]string{`models/a.yml:6:13: unknown test "dbt_utils.unique_combination_of_columns": strata has no packages, and dbt_utils' unique_combination_of_columns is the built-in test unique_combination, with columns for combination_of_columns: unique_combination: {columns: [order_id, line_number]} (docs/tests.md)`}},
		{"unique_combination_of_columns: {combination_of_columns: [id, n]}",
			[]string{`unknown test "unique_combination_of_columns": strata has no packages, and dbt_utils' unique_combination_of_columns is the built-in test unique_combination`}},
		{"dbt_utils.equal_rowcount: {compare_model: ref('b')}",
			[]string{`unknown test "dbt_utils.equal_rowcount": strata has no packages, and dbt_utils' equal_rowcount is the built-in test equal_row_count, with to for compare_model: equal_row_count: {to: stg_orders}`}},
		{"dbt_utils.expression_is_true: {expression: 'id > 0'}",
			[]string{`unknown test "dbt_utils.expression_is_true": strata has no packages, and dbt_utils' expression_is_true is the built-in test expression_is_true: expression_is_true: {expression: "total_amount >= 0"}`}},
		{"dbt_utils.accepted_range: {arguments: {min_value: 0}}",
			[]string{`unknown test "dbt_utils.accepted_range": strata has no packages, and dbt_utils' accepted_range is the built-in test accepted_range, with max for max_value and min for min_value: `}},
		{"dbt_utils.recency: {datepart: day, field: at, interval: 1}",
			[]string{`unknown test "dbt_utils.recency": strata has no packages, and dbt_utils' recency is the built-in test recency, with max_age for datepart and max_age for interval: recency: {field: ordered_at, max_age: 7d}`}},
		{"dbt_expectations.expect_table_row_count_to_be_between: {min_value: 1}",
			[]string{`unknown test "dbt_expectations.expect_table_row_count_to_be_between": strata has no packages, and dbt_expectations' expect_table_row_count_to_be_between is the built-in test row_count, with max for max_value and min for min_value`}},
		{"accepted_range: {arguments: {min_value: 0, max: 9}}",
			[]string{`models/a.yml:6:42: test accepted_range: argument "min_value" is not known: it is dbt_utils' spelling (of accepted_range): strata's accepted_range calls it min (docs/tests.md)`}},
		{"accepted_range: {max_value: 9, min: 0, severity: warn}",
			[]string{`models/a.yml:6:30: test accepted_range: argument "max_value" is not known: it is dbt_utils' spelling (of accepted_range): strata's accepted_range calls it max`}},
		{"unique_combination: {combination_of_columns: [id, n]}", []string{
			`test unique_combination: argument "combination_of_columns" is not known: it is dbt_utils' spelling (of unique_combination_of_columns): strata's unique_combination calls it columns`}},
		{"recency: {arguments: {datepart: day, field: at, interval: 1}}", []string{
			`test recency: argument "datepart" is not known: it is dbt_utils' spelling (of recency): strata's recency calls it max_age, one duration for datepart and interval (max_age: 1d for datepart: day, interval: 1)`,
			`test recency: argument "interval" is not known: it is dbt_utils' spelling (of recency)`}},
		// A name that is not dbt's goes on as before.
		{"accepted_range: {arguments: {minimum: 0, max: 9}}", []string{`unknown key "minimum" in arguments of test accepted_range`}},
		{"dbt_utils.at_least_one", []string{`unknown test "dbt_utils.at_least_one" (expected a built-in test or a macro named "test_dbt_utils.at_least_one")`}},
		// strata's own spelling loads.
		{"unique_combination: {columns: [id, n]}", nil},
		{"accepted_range: {arguments: {min: 0, max: 9}}", nil},
		{"recency: {field: at, max_age: 1d}", nil},
		{"equal_row_count: {to: ref('b')}", nil},
	} {
		fsys := fstest.MapFS{
			"project.yaml": {Data: []byte("name: p\n")},
			"models/a.sql": {Data: []byte("select 1 as id, 2 as n, now() as at")},
			"models/b.sql": {Data: []byte("select 1 as id")},
			"models/a.yml": {Data: []byte("models:\n  - name: a\n    columns:\n      - name: id\n        data_tests:\n          - " + c.test + "\n")},
		}
		p, diags := project.Load(fsys)
		if !diags.HasErrors() {
			var more diag.List
			_, more = Build(p, Target{Name: "dev", Type: "local", Schema: "tgt"})
			diags = append(diags, more...)
		}
		var got []string
		for _, d := range diags {
			if d.Severity == diag.Error {
				got = append(got, d.Error())
			}
		}
		ok := len(got) >= len(c.want) && (len(c.want) > 0 || len(got) == 0)
		for _, w := range c.want {
			found := false
			for _, g := range got {
				found = found || strings.Contains(g, w)
			}
			ok = ok && found
		}
		if !ok {
			t.Errorf("%s:\ngot  %q\nwant %q", c.test, got, c.want)
		}
	}
}
