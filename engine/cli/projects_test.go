package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestAnotherProjectsRelationIsNotTakenOver: two projects on one database
// with a model (or seed) at the same relation replaced each other's
// table at every build, silently: each project's record said its own
// build was there, plan of each said nothing to rebuild. A build now
// refuses a relation another project built last and builds still, naming
// it; another target or environment of the same project is not another
// project. A model moved from one project to the other is taken over once
// the first project's run no longer builds it (it warns of it as left
// behind, then is quiet once the other project built it).
func TestAnotherProjectsRelationIsNotTakenOver(t *testing.T) {
	url := pgtest.DB(t)
	alpha := writeProject(t, url, map[string]string{
		"project.yaml":      "name: alpha\nmodels: {'.': {materialized: table}}\n",
		"models/orders.sql": "select 1 as id, 'alpha' as src",
		"seeds/people.csv":  "id\n1\n",
	})
	beta := writeProject(t, url, map[string]string{
		"project.yaml":      "name: beta\nmodels: {'.': {materialized: table}}\n",
		"models/orders.sql": "select 2 as id, 'beta' as src",
		"models/child.sql":  `select id from {{ ref "orders" }}`,
		"models/mine.sql":   "select 3 as id",
		"seeds/people.csv":  "id\n2\n",
	})
	must(t, 0, alpha, "build")

	// plan says it before the build does.
	mustContain(t, must(t, 0, beta, "plan"),
		"note: build refuses model orders, at public.orders: model orders of project alpha (target t) built it, last at ",
		"note: build refuses seed people, at public.people: seed people of project alpha (target t) built it")
	code, out := strata(t, beta, "build")
	if code != 1 {
		t.Fatalf("beta's build of alpha's relations exits %d, want 1:\n%s", code, out)
	}
	mustContain(t, out,
		"models/orders.sql: refusing to replace public.orders: model orders of project alpha (target t) built it, last at ",
		"two projects that build one relation replace each other's rows; nothing was changed. Give this model (or project alpha's) another schema or alias; if it moved here from project alpha, run a build of alpha without it first",
		"refusing to replace public.people: seed people of project alpha (target t) built it",
		"skipped because model.beta.orders failed",
		"OK created table model public.mine",
	)
	if got := queryText(t, url, "select string_agg(src, ',') from public.orders"); got != "alpha" {
		t.Errorf("public.orders holds %q after beta's refused build, want alpha's row", got)
	}
	if got := queryText(t, url, "select string_agg(id::text, ',') from public.people"); got != "1" {
		t.Errorf("public.people holds %q after beta's refused build, want alpha's row", got)
	}
	// run and seed refuse as build does; retry too.
	mustContain(t, must(t, 1, beta, "run", "-s", "orders"), "refusing to replace public.orders: model orders of project alpha")
	mustContain(t, must(t, 1, beta, "seed"), "refusing to replace public.people: seed people of project alpha")
	mustContain(t, must(t, 1, beta, "retry"), "refusing to replace public.people: seed people of project alpha")

	// beta's environment builds its own relations: not alpha's.
	must(t, 0, beta, "build", "--env", "e1", "--no-defer")
	// alpha on another target of the same database is alpha still.
	writeFile(t, alpha, "project.yaml", "name: alpha\nmodels: {'.': {materialized: table}}\ntarget: t\ntargets:\n  t: {type: postgres, url: '"+url+"'}\n  t2: {type: postgres, url: '"+url+"'}\n")
	must(t, 0, alpha, "build", "--target", "t2")
	must(t, 0, alpha, "build")

	// orders and people move from alpha to beta: alpha's run no longer
	// builds them (and says they are left), then beta's takes them over.
	for _, f := range []string{"models/orders.sql", "seeds/people.csv"} {
		if err := os.Remove(filepath.Join(alpha, filepath.FromSlash(f))); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, alpha, "models/other.sql", "select 4 as id")
	mustContain(t, must(t, 0, alpha, "build"), "warning: table public.orders was built for model orders, which is no longer in the project",
		`(drop table "public"."orders"); if the model moved to another project on this database, that project's next build takes it over instead`,
		`(drop table "public"."people"); if the seed moved to another project on this database, that project's next build takes it over instead`)
	if out := must(t, 0, beta, "plan"); strings.Contains(out, "build refuses") {
		t.Errorf("beta's plan says build refuses what alpha no longer builds:\n%s", out)
	}
	must(t, 0, beta, "build")
	if got := queryText(t, url, "select string_agg(src, ',') from public.orders"); got != "beta" {
		t.Errorf("public.orders holds %q after the move, want beta's row", got)
	}
	for _, target := range []string{"t", "t2"} {
		if out := must(t, 0, alpha, "build", "--target", target); strings.Contains(out, "public.orders") || strings.Contains(out, "public.people") {
			t.Errorf("alpha's build on %s speaks of the relations beta builds now:\n%s", target, out)
		}
	}
	// And alpha taking it back is refused, naming beta.
	writeFile(t, alpha, "models/orders.sql", "select 1 as id, 'alpha' as src")
	mustContain(t, must(t, 1, alpha, "build"), "refusing to replace public.orders: model orders of project beta (target t) built it")
}
