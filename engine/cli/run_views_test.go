package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

func executed(t *testing.T, dir, model string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "target", "run", "models", model+".sql"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunnerViewRedefinedInPlace: a view model whose columns stay is rebuilt
// with create or replace view, in place: a hand-made view on it is not even
// touched (same oid), and keeps its owner, grant and comment; the model's own
// grants follow its config, which adds and never revokes, and its comment
// its description.
func TestRunnerViewRedefinedInPlace(t *testing.T) {
	url := pgtest.DB(t)
	createRoles(t, url, "view_owner", "view_reader", "view_other")
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: vi\nvars: {k: 1}\nmodels: {'.': {materialized: view}}\n",
		"models/v.sql":      `select {{ var "k" }} as id, 'a' as name`,
		"models/schema.yml": "models:\n  - name: v\n    description: the v\n    config: {grants: {select: [view_reader, view_owner]}}\n",
	})
	must(t, 0, dir, "run")
	execSQL(t, url,
		"create view public.hv as select id, name from public.v",
		"alter view public.hv owner to view_owner",
		"grant select on public.hv to view_other",
		"comment on view public.hv is 'by hand'",
	)
	oid := queryText(t, url, "select 'public.hv'::regclass::oid::text")
	voidBefore := queryText(t, url, "select 'public.v'::regclass::oid::text")
	writeFile(t, dir, "models/schema.yml", "models:\n  - name: v\n    description: the new v\n    config: {grants: {select: [view_other, view_owner]}}\n")
	must(t, 0, dir, "run", "--vars", "k: 2")
	if got := queryText(t, url, "select 'public.hv'::regclass::oid::text"); got != oid {
		t.Errorf("the hand-made view was recreated (oid %s, was %s)", got, oid)
	}
	if got := queryText(t, url, "select 'public.v'::regclass::oid::text"); got != voidBefore {
		t.Errorf("the view was not redefined in place (oid %s, was %s)", got, voidBefore)
	}
	if got := queryInt(t, url, "select id from public.hv"); got != 2 {
		t.Errorf("hv reads %d, want 2", got)
	}
	for q, want := range map[string]string{
		"select pg_get_userbyid(relowner)::text from pg_class where oid = 'public.hv'::regclass": "view_owner",
		"select obj_description('public.hv'::regclass, 'pg_class')":                              "by hand",
		"select has_table_privilege('view_other', 'public.hv', 'select')::text":                  "true",
		"select obj_description('public.v'::regclass, 'pg_class')":                               "the new v",
		"select has_table_privilege('view_reader', 'public.v', 'select')::text":                  "true", // not revoked: grants only add
		"select has_table_privilege('view_other', 'public.v', 'select')::text":                   "true",
	} {
		if got := queryText(t, url, q); got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
	run := executed(t, dir, "v")
	if !strings.Contains(run, "create or replace view") || strings.Contains(run, "__strata_new") {
		t.Errorf("target/run/models/v.sql:\n%s", run)
	}

	// A database error in the view still points at its line in target/compiled.
	writeFile(t, dir, "models/v.sql", "select 1 as id,\n  'a' as name,\n  no_such_column as x")
	out := must(t, 1, dir, "run")
	if !strings.Contains(out, "at line 3 of target/compiled/models/v.sql") {
		t.Errorf("the error is not placed at line 3:\n%s", out)
	}
}

// TestRunnerViewColumnChangeFallsBackToSwap: when create or replace view
// cannot keep the columns, the view is built under a temporary name and
// swapped in; the hand-made view on it is recreated, or, when it reads the
// column that is gone, the swap refuses naming the view and the column.
func TestRunnerViewColumnChangeFallsBackToSwap(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: vs\nmodels: {'.': {materialized: view}}\n",
		"models/v.sql": `select 1 as id, 'a' as name`,
	})
	must(t, 0, dir, "run")
	execSQL(t, url, "create view public.hv as select id from public.v", "comment on view public.hv is 'by hand'")

	// name is dropped and id retyped: not possible in place.
	writeFile(t, dir, "models/v.sql", `select 2::bigint as id`)
	must(t, 0, dir, "run")
	if got := queryInt(t, url, "select id from public.hv"); got != 2 {
		t.Errorf("hv reads %d, want 2", got)
	}
	if got := queryText(t, url, "select obj_description('public.hv'::regclass, 'pg_class')"); got != "by hand" {
		t.Errorf("hv comment %q", got)
	}
	run := executed(t, dir, "v")
	if !strings.Contains(run, "-- rolled back: models/v.sql: cannot") || !strings.Contains(run, "rename to") {
		t.Errorf("target/run/models/v.sql does not show the fallback:\n%s", run)
	}

	writeFile(t, dir, "models/v.sql", `select 'a' as name`)
	out := must(t, 1, dir, "run")
	if !strings.Contains(out, "view public.hv depends on it") || !strings.Contains(out, `column v.id does not exist`) {
		t.Errorf("the refusal does not name the view and the column:\n%s", out)
	}
	if got := queryInt(t, url, "select id from public.v"); got != 2 {
		t.Errorf("the old view changed: %d", got)
	}
}

// TestRunnerMaterializationChange: a table becomes a view and back, with a
// hand-made view on it surviving both swaps.
func TestRunnerMaterializationChange(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: mc\nmodels: {'.': {materialized: table}}\n",
		"models/m.sql": `select 1 as id`,
	})
	must(t, 0, dir, "run")
	execSQL(t, url, "create view public.hv as select id from public.m")
	for _, c := range []struct{ mat, kind string }{{"view", "v"}, {"table", "r"}, {"view", "v"}} {
		writeFile(t, dir, "models/m.sql", `{{ config "materialized" "`+c.mat+`" }}select 1 as id`)
		must(t, 0, dir, "run")
		if got := queryText(t, url, "select relkind::text from pg_class where oid = 'public.m'::regclass"); got != c.kind {
			t.Errorf("materialized %s: relkind %s", c.mat, got)
		}
		if got := queryInt(t, url, "select id from public.hv"); got != 1 {
			t.Errorf("materialized %s: hv reads %d", c.mat, got)
		}
	}
}
