package cli

import (
	"testing"

	"strata/engine/internal/pgtest"
)

// TestModelIsOneStatement: a model whose SQL ends the statement strata
// wraps it in (a stray ")" and ";", or a var's value that brings one) is
// refused before anything runs, by build, run and check alike, so the
// statement after it never runs: no relation appears, none changes.
func TestModelIsOneStatement(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: onestmt\nvars: {region: \"'eu'\"}\n",
		"models/ok.sql":     "select 1 as id, 'eu' as region",
		"models/region.sql": "select * from {{ ref \"ok\" }} where region = {{ var \"region\" }}",
	})
	must(t, 0, dir, "build")
	before := userRelations(t, url)
	escape := "'eu'; create table public.pwned_var as (select 1 as b); select 'x'"
	for _, args := range [][]string{{"build"}, {"run"}, {"check"}} {
		out := must(t, 2, dir, append(args, "--vars", "{region: \""+escape+"\"}")...)
		mustContain(t, out, `models/region.sql:1:`, `model region: ";" ends the statement here, and more SQL follows it`)
	}
	writeFile(t, dir, "models/pwned.sql", "{{ config \"materialized\" \"table\" }}\nselect 1 as a) ; create table public.pwned2 as (select 2 as b")
	for _, args := range [][]string{{"build"}, {"run"}, {"check"}, {"run", "-s", "pwned"}} {
		out := must(t, 2, dir, args...)
		mustContain(t, out, `models/pwned.sql:2:14: model pwned: ")" closes a parenthesis that is not open`, "move it to a pre-hook/post-hook or its own model")
	}
	if after := userRelations(t, url); after != before {
		t.Errorf("a refused model changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestTestWhereIsOneExpression: a test's where is written into the
// statement that stores its failures (sent as one simple query), so one
// that ended that statement ran what followed; it is refused before
// anything runs.
func TestTestWhereIsOneExpression(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: onewhere\n",
		"models/a.sql": "{{ config \"materialized\" \"table\" }}\nselect 1 as id",
		"models/a.yml": "models:\n  - name: a\n    columns:\n      - name: id\n        tests:\n          - not_null: {store_failures: true, where: \"id > 0 and ';' <> ')'\"}\n",
		"models/b.sql": "select 1 as id",
	})
	must(t, 0, dir, "build")
	before := userRelations(t, url)
	writeFile(t, dir, "models/a.yml", "models:\n  - name: a\n    columns:\n      - name: id\n        tests:\n          - not_null: {store_failures: true, where: \"1=1) as x; drop view public.b; select * from (select 1 as id\"}\n")
	for _, args := range [][]string{{"test"}, {"build"}} {
		code, out := strata(t, dir, args...)
		if after := userRelations(t, url); after != before {
			t.Fatalf("%v changed the database:\nbefore:\n%s\nafter:\n%s", args, before, after)
		}
		if code != 2 {
			t.Fatalf("strata %v: exit %d, want 2\n%s", args, code, out)
		}
		mustContain(t, out, `models/a.yml:6:53: test not_null_a_id: the where setting is not a single SQL expression: ";" ends the statement here`)
	}
}
