package compile

import (
	"testing"
	"testing/fstest"
)

// TestGenericTestToEphemeral: a test whose to: names an ephemeral model
// inlines it as a CTE, as a model would, since it has no relation to read.
func TestGenericTestToEphemeral(t *testing.T) {
	fsys := fstest.MapFS{
		"project.yaml":  {Data: []byte("name: p\n")},
		"models/e1.sql": {Data: []byte(`{{ config "materialized" "ephemeral" }}select 1 as id;`)},
		"models/e2.sql": {Data: []byte(`{{ config "materialized" "ephemeral" }}select * from {{ ref "e1" }}`)},
		"models/m.sql":  {Data: []byte("select 1 as id")},
		"models/m.yml": {Data: []byte("models:\n  - name: m\n    tests:\n      - equal_row_count: {to: e2}\n" +
			"    columns:\n      - name: id\n        tests:\n          - relationships: {to: e1, field: id}\n" +
			"          - relationships: {to: m, field: id, name: to_a_table}\n")},
	}
	m, c := compilerFor(t, fsys)
	e1 := "\"__strata_ephemeral_e1\" as (\nselect 1 as id\n)"
	e2 := "\"__strata_ephemeral_e2\" as (\nselect * from \"__strata_ephemeral_e1\"\n)"
	tests := []struct{ id, want string }{
		{"test.p.equal_row_count_m", "with " + e1 + ",\n" + e2 + "\n" +
			`select * from (select (select count(*) from "s"."m") as row_count, (select count(*) from "__strata_ephemeral_e2") as other_row_count) as counts where row_count <> other_row_count`},
		{"test.p.relationships_m_id", "with " + e1 + "\n" +
			`select child."id" as from_field, count(*) as n_records from "s"."m" as child where child."id" is not null and not exists (select 1 from "__strata_ephemeral_e1" as parent where parent."id" = child."id") group by child."id"`},
		{"test.p.to_a_table", `select child."id" as from_field, count(*) as n_records from "s"."m" as child where child."id" is not null and not exists (select 1 from "s"."m" as parent where parent."id" = child."id") group by child."id"`},
	}
	for _, tc := range tests {
		n := m.Nodes[tc.id]
		if n == nil {
			t.Fatalf("no test %s among %v", tc.id, m.Sorted())
		}
		res, err := c.Node(n, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.id, err)
		}
		if res.SQL != tc.want {
			t.Errorf("%s: got:\n%s\nwant:\n%s", tc.id, res.SQL, tc.want)
		}
	}
}
