package graph

import (
	"testing"
	"testing/fstest"
)

// valuesGraph: inc (incremental, delete+insert) -> after; a generic and a
// singular test on inc.
func valuesGraph(t *testing.T) *Graph {
	t.Helper()
	fsys := fstest.MapFS{
		"project.yaml":     {Data: []byte("name: p\n")},
		"models/inc.sql":   {Data: []byte(`{{ config "materialized" "incremental" "unique_key" "id" "incremental_strategy" "delete+insert" }}select 1 as id`)},
		"models/after.sql": {Data: []byte(`select * from {{ ref "inc" }}`)},
		"models/m.yml":     {Data: []byte("models:\n  - name: inc\n    columns:\n      - name: id\n        tests: [not_null]\n")},
		"tests/few.sql":    {Data: []byte(`select * from {{ ref "inc" }} where id < 0`)},
	}
	return graphOf(t, fsys)
}

// TestSelectPlusInValueAndTestTypes: a + inside a method's value is part of
// the value, one at either end of the selector a graph operator; test_type
// data is every data test (generic and singular), schema dbt's old name
// for generic, unit the unit tests (none here).
func TestSelectPlusInValueAndTestTypes(t *testing.T) {
	gr := valuesGraph(t)
	const tests = "test:few test:not_null_inc_id"
	cases := []struct{ sel, want string }{
		{"config.incremental_strategy:delete+insert", "inc " + tests},
		{"config.incremental_strategy:delete+insert+", "after inc " + tests},
		{"config.incremental_strategy:delete+insert+1", "after inc " + tests},
		{"+config.incremental_strategy:delete+insert", "inc " + tests},
		{"@config.incremental_strategy:delete+insert", "after inc " + tests},
		{"config.incremental_strategy:delete+insert,resource_type:model", "inc " + tests},
		{"config.incremental_strategy:merge", ""},
		{"inc+", "after inc " + tests},
		{"test_type:singular", "test:few"},
		{"test_type:data", "test:few test:not_null_inc_id"},
		{"test_type:generic", "test:not_null_inc_id"},
		{"test_type:schema", "test:not_null_inc_id"},
		{"test_type:unit", ""},
	}
	checkSelections(t, gr, cases)
	errs := []struct{ sel, want string }{
		{"test_type:dat", `--select test_type:dat: test_type "dat" is not known (expected unit, data, singular or generic) (did you mean "data"?)`},
		{"test_type:unt", `--select test_type:unt: test_type "unt" is not known (expected unit, data, singular or generic) (did you mean "unit"?)`},
		{"inc+after", `--select inc+after: "inc+after" is not a selector (expected name, +name, name+, 2+name, @name, or method:value)`},
		{"config.x:a+@b", `--select config.x:a+@b: "config.x:a+@b" is not a selector (expected name, +name, name+, 2+name, @name, or method:value)`},
	}
	for _, tc := range errs {
		t.Run(tc.sel, func(t *testing.T) {
			_, err := gr.Select([]string{tc.sel}, nil, nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}
