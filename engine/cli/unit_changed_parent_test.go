package cli

import (
	"testing"

	"strata/engine/internal/pgtest"
)

// A unit test of a model whose parents changed, in a build that rebuilds
// them first: their new columns (a model's new SQL, a seed's new file)
// type the test's inputs, as before anything was built ("nothing needs to
// be built first"), not the columns of the relations built before.
func TestUnitTestOfAChangedParent(t *testing.T) {
	url := pgtest.DB(t)
	unit := func(cols string) string {
		return "unit_tests:\n  - name: dim_keeps_rows\n    model: dim\n    given:\n      - input: ref('stg')\n        rows: [{" + cols + "}]\n      - input: ref('people')\n        rows: [{" + cols + "}]\n    expect:\n      rows: [{" + cols + "}, {" + cols + "}]\n"
	}
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: cp\nmodels: {'.': {materialized: table}}\n",
		"seeds/people.csv": "id\n1\n",
		"models/stg.sql":   "select 1 as id\n",
		"models/dim.sql":   "select id from {{ ref \"stg\" }} union all select id from {{ ref \"people\" }}\n",
		"models/unit.yml":  unit("id: 1"),
	})
	must(t, 0, dir, "build")
	// stg and the seed gain a column, dim reads it, the unit test gives it.
	writeFiles(t, dir, map[string]string{
		"seeds/people.csv": "id,email\n1,a@b\n",
		"models/stg.sql":   "select 1 as id, 'a@b'::text as email\n",
		"models/dim.sql":   "select id, email from {{ ref \"stg\" }} union all select id, email from {{ ref \"people\" }}\n",
		"models/unit.yml":  unit("id: 1, email: x"),
	})
	mustContain(t, must(t, 0, dir, "build"), "PASS=4 WARN=0 FAIL=0 ERROR=0 SKIP=0")
}

// TestUnitTestOfANewParent: a unit test giving two inputs, one a model
// that exists and one new (not built yet) that reads it, could not be
// typed ("the columns of model b are not known: ... cannot create
// temporary relation in non-temporary schema"): the existing one is
// described as a temporary view, which the new one read from a view in
// its own schema. Found in a fresh environment (--env --no-defer), where
// it came and went with which nodes were built when the test ran. The new
// one is described as a temporary view too.
func TestUnitTestOfANewParent(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: np\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql": "select 1 as id\n",
	})
	must(t, 0, dir, "build")
	writeFiles(t, dir, map[string]string{
		"models/b.sql":    "{{ config \"materialized\" \"view\" }}select id from {{ ref \"a\" }}\n",
		"models/c.sql":    "select b.id from {{ ref \"b\" }} as b join {{ ref \"a\" }} as a using (id)\n",
		"models/unit.yml": "unit_tests:\n  - name: c_joins\n    model: c\n    given:\n      - input: ref('a')\n        rows: [{id: 1}, {id: 2}]\n      - input: ref('b')\n        rows: [{id: 1}]\n    expect:\n      rows: [{id: 1}]\n",
	})
	mustContain(t, must(t, 0, dir, "test", "-s", "test_type:unit"), "PASS c_joins")
	mustContain(t, must(t, 0, dir, "build"), "PASS c_joins", "ERROR=0")
}
