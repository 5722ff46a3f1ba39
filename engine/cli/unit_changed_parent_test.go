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
