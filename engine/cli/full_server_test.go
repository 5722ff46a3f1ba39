package cli

import (
	"fmt"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestRunOnAFullServer: a server with room for fewer connections than
// --threads runs the nodes on the connections it has, and says so; with
// room only for the run lock's, the run stops with one clear error. The
// line says how many it runs on once the pool has opened all it could
// (it said 1 while the second was still being opened). The
// limit here is the database's connection limit, which PostgreSQL
// enforces as it does max_connections (SQLSTATE 53300), for a role that
// is not a superuser.
func TestRunOnAFullServer(t *testing.T) {
	url := pgtest.DB(t)
	db := queryText(t, url, "select current_database()")
	role := "few_" + db
	execSQL(t, url, "create role "+role+" login", "alter database "+db+" owner to "+role, "alter database "+db+" connection limit 3")
	t.Cleanup(func() {
		execSQL(t, url, "alter database "+db+" connection limit -1", "alter database "+db+" owner to postgres", "drop owned by "+role, "drop role "+role)
	})
	as := strings.Replace(url, "postgres://postgres@", "postgres://"+role+"@", 1)
	if as == url {
		t.Fatalf("cannot make a URL for another role from %s", url)
	}
	files := map[string]string{"project.yaml": "name: full\nmodels:\n  t: {materialized: table}\n"}
	schema := "models:\n"
	for i := range 10 {
		files[fmt.Sprintf("models/t/m%d.sql", i)] = fmt.Sprintf("select %d as id from pg_sleep(0.2)", i)
		schema += fmt.Sprintf("  - name: m%d\n    columns:\n      - name: id\n        tests: [not_null, unique]\n", i)
	}
	files["models/t/schema.yml"] = schema
	dir := writeProject(t, as, files)
	out := must(t, 0, dir, "build", "--threads", "8")
	mustContain(t, out, "The server has no room for another connection (its max_connections are taken): running the nodes on the 2 connections this run has, not 8 at once", "PASS=30 WARN=0 FAIL=0 ERROR=0 SKIP=0")
	if got := queryText(t, url, "select count(*) from pg_tables where tablename like 'm_'"); got != "10" {
		t.Errorf("%s tables built, want 10", got)
	}

	execSQL(t, url, "alter database "+db+" connection limit 1")
	out = must(t, 1, dir, "run", "--threads", "8")
	mustContain(t, out, `the server has no free connection (too many connections for database "`+db+`" (SQLSTATE 53300)): try again once other sessions have ended (pg_stat_activity lists them), or have the limit raised`)
	if strings.Contains(out, "went away") {
		t.Errorf("a full server was taken for one that went away:\n%s", out)
	}
}
