package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/pgtest"
	"strata/engine/pgname"
	"strata/engine/pipeline"
	"strata/engine/plan"
	"strata/engine/state"
)

// strataOut runs strata and returns its exit code, stdout and stderr apart.
func strataOut(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"--project-dir", dir, "--no-color"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// prodPrints are the row checksums of every relation outside the
// environments and strata's own schema.
func prodPrints(t *testing.T, url string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for rel := range relations(t, url) {
		if strings.Contains(rel, "__") {
			continue
		}
		out[rel] = fingerprint(t, url, "select * from "+rel)
	}
	return out
}

// envRelations are the relations in the schemas of environment env.
func envRelations(t *testing.T, url, env string) []string {
	t.Helper()
	var out []string
	for _, r := range queryRows(t, url, `select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where c.relkind in ('r', 'p', 'v', 'm') and not c.relispartition and n.nspname like '%\_\_`+env+`' order by 1`) {
		out = append(out, r[0])
	}
	return out
}

// TestEnvironmentPlanAndDefer is issue 19's "done when": production built;
// one staging model changed in a copy; plan lists exactly it, with its
// column changes and its descendants; an environment build of
// state:modified+ creates only the changed models' layers, reads the rest
// from production, passes its tests and leaves production as it was; env
// drop leaves nothing.
func TestEnvironmentPlanAndDefer(t *testing.T) {
	url := pgtest.DB(t)
	prod := pipelineProject(t, 0.1, 1)
	t.Setenv("DATABASE_URL", url)
	must(t, 0, prod, "--target", "prod", "build")
	before := prodPrints(t, url)

	// The branch: a copy of the project with stg_orders changed.
	branch := filepath.Join(t.TempDir(), "branch")
	if err := copyTree(prod, branch); err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(filepath.Join(branch, "target"))
	file := filepath.Join(branch, "models", "staging", "stg_orders.sql")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), "o.shipping_cost::numeric(12, 2) as shipping_cost,", "o.shipping_cost::numeric(14, 2) as shipping_cost,\n    upper(o.channel) as channel_code, -- new", 1)
	if changed == string(src) {
		t.Fatal("stg_orders.sql no longer has the line this test changes")
	}
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}

	// Its descendants, as ls lists them.
	_, lsOut, _ := strataOut(t, branch, "--target", "prod", "ls", "-s", "stg_orders+", "--resource-type", "model")
	var descendants []string
	for _, name := range strings.Fields(lsOut) {
		if name != "stg_orders" {
			descendants = append(descendants, name)
		}
	}
	sort.Strings(descendants)
	if len(descendants) < 5 {
		t.Fatalf("stg_orders has only %d descendants: %v", len(descendants), descendants)
	}

	code, out, errOut := strataOut(t, branch, "--target", "prod", "plan", "--env", "pr1", "--output", "json")
	if code != 0 {
		t.Fatalf("plan exited %d: %s", code, errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --output json: %v\n%s", err, out)
	}
	if len(p.Added)+len(p.Removed) != 0 || len(p.Modified) != 1 || p.Modified[0].Name != "stg_orders" {
		t.Fatalf("plan: added %v, removed %v, modified %v; want only stg_orders modified", p.Added, p.Removed, p.Modified)
	}
	m := p.Modified[0]
	if m.Columns == nil || len(m.Columns.Added) != 1 || m.Columns.Added[0].Name != "channel_code" || len(m.Columns.Removed) != 0 ||
		len(m.Columns.Retyped) != 1 || m.Columns.Retyped[0] != (plan.Retyped{Name: "shipping_cost", Old: "numeric(12,2)", New: "numeric(14,2)"}) {
		t.Fatalf("plan's columns of stg_orders = %+v (%s)", m.Columns, m.ColumnsError)
	}
	if !slices.ContainsFunc(m.Readers, func(r plan.Reader) bool {
		return r.Model == "fact_orders" && slices.Contains(r.Columns, "shipping_cost")
	}) {
		t.Errorf("plan: fact_orders is not named as reading shipping_cost: %+v", m.Readers)
	}
	if !strings.Contains(m.Diff, "-o.shipping_cost::numeric(12, 2) as shipping_cost,") || !strings.Contains(m.Diff, "+upper(o.channel) as channel_code,") || strings.Contains(m.Diff, "-- new") {
		t.Errorf("plan's diff:\n%s", m.Diff)
	}
	var indirect []string
	for _, x := range p.Indirect {
		indirect = append(indirect, x.Name)
	}
	sort.Strings(indirect)
	if !slices.Equal(indirect, descendants) {
		t.Errorf("plan: indirectly modified %v, want stg_orders' descendants %v", indirect, descendants)
	}
	var rebuild []string
	layers := map[string]bool{}
	for _, s := range p.Rebuild {
		rebuild = append(rebuild, s.Relation)
		layers[strings.SplitN(s.Relation, ".", 2)[0]] = true
	}
	if len(p.Rebuild) != len(descendants)+1 || p.Rebuild[0].Name != "stg_orders" {
		t.Errorf("plan: rebuild %v, want stg_orders then its %d descendants", rebuild, len(descendants))
	}
	for _, format := range []string{"text", "markdown"} {
		if code, out, errOut := strataOut(t, branch, "--target", "prod", "plan", "--output", format); code != 0 || !strings.Contains(out, "stg_orders") {
			t.Errorf("plan --output %s exited %d: %s%s", format, code, out, errOut)
		}
	}

	out = must(t, 0, branch, "--target", "prod", "build", "--env", "pr1", "-s", "state:modified+")
	if !strings.Contains(out, " ERROR=0 ") && !strings.Contains(out, "ERROR=0") {
		t.Errorf("the environment build had errors:\n%s", out)
	}
	built := envRelations(t, url, "pr1")
	sort.Strings(rebuild)
	if !slices.Equal(built, rebuild) {
		t.Errorf("environment pr1 holds %v, want exactly what plan said it would rebuild %v", built, rebuild)
	}
	var schemas []string
	for _, r := range queryRows(t, url, `select nspname from pg_namespace where nspname like '%\_\_pr1' order by 1`) {
		schemas = append(schemas, r[0])
		if !layers[r[0]] {
			t.Errorf("schema %s was created, but no changed model is in it", r[0])
		}
	}
	if len(schemas) != len(layers) {
		t.Errorf("schemas %v, want the changed models' layers %v", schemas, layers)
	}
	// The rest is read from production: stg_order_items (rebuilt) reads
	// production's stg_products (not rebuilt), and no copy of it exists.
	def := queryText(t, url, "select pg_get_viewdef('staging__pr1.stg_order_items'::regclass)")
	if !strings.Contains(def, "staging.stg_products") || strings.Contains(def, "stg_products__") {
		t.Errorf("stg_order_items in pr1 does not read production's stg_products:\n%s", def)
	}
	if n := queryInt(t, url, "select count(*) from pg_class where relname = 'stg_products'"); n != 1 {
		t.Errorf("%d relations called stg_products, want production's alone", n)
	}
	if n := queryInt(t, url, "select count(*) from analytics__pr1.daily_sales"); n != queryInt(t, url, "select count(*) from analytics.daily_sales") {
		t.Errorf("pr1's daily_sales has %d rows, production's a different number", n)
	}
	// A later run in the environment reads what the environment built of
	// the project as it is (stg_orders), and production for the rest.
	must(t, 0, branch, "--target", "prod", "build", "--env", "pr1", "-s", "fact_orders")
	compiled, err := os.ReadFile(filepath.Join(branch, "target", "compiled", "models", "warehouse", "fact_orders.sql"))
	if err != nil || !strings.Contains(string(compiled), `"staging__pr1"."stg_orders"`) || !strings.Contains(string(compiled), `"warehouse"."dim_customers"`) {
		t.Errorf("fact_orders built alone in pr1 (%v):\n%s", err, compiled)
	}
	if rr, err := os.ReadFile(filepath.Join(branch, "target", "run_results.json")); err != nil || !strings.Contains(string(rr), `"env":"pr1"`) {
		t.Errorf("run_results.json does not name the environment for retry (%v)", err)
	}
	out = must(t, 0, branch, "--target", "prod", "env", "ls")
	if !strings.Contains(out, "pr1") {
		t.Errorf("env ls:\n%s", out)
	}

	after := prodPrints(t, url)
	for rel, sum := range before {
		if after[rel] != sum {
			t.Errorf("production's %s changed", rel)
		}
	}

	out = must(t, 0, branch, "--target", "prod", "env", "drop", "pr1")
	if left := queryText(t, url, `select coalesce(string_agg(nspname, ','), 'none') from pg_namespace where nspname like '%pr1'`); left != "none" {
		t.Errorf("after env drop: schemas %s\n%s", left, out)
	}
	if n := queryInt(t, url, "select count(*) from strata_meta.nodes where env = 'pr1'") + queryInt(t, url, "select count(*) from strata_meta.invocations where env = 'pr1'"); n != 0 {
		t.Errorf("after env drop: %d rows of pr1 in strata_meta", n)
	}
	must(t, 2, branch, "--target", "prod", "env", "drop", "prod")

	// A production parent dropped by hand: the environment names it and
	// suggests --no-defer, and builds nothing.
	execSQL(t, url, "alter view staging.stg_products rename to stg_products_away")
	code, _, errOut = strataOut(t, branch, "--target", "prod", "build", "--env", "pr2", "-s", "state:modified+")
	if code != 1 || !strings.Contains(errOut, "model stg_products (read by ") || !strings.Contains(errOut, "stg_order_items): its relation staging.stg_products no longer exists") || !strings.Contains(errOut, "--no-defer") {
		t.Errorf("a missing production parent: exit %d\n%s", code, errOut)
	}
	if left := envRelations(t, url, "pr2"); len(left) != 0 {
		t.Errorf("pr2 was built: %v", left)
	}
	execSQL(t, url, "alter view staging.stg_products_away rename to stg_products")
}

func TestEnvNames(t *testing.T) {
	dir := repoRoot(t)
	for _, tc := range []struct{ env, want string }{
		{"PR-1", `--env: environment name "PR-1": 'P' is not allowed`},
		{"prod", `--env: environment name "prod" is production's`},
		{strings.Repeat("x", 60), "is too long: schema"},
		// "$PR" of an unset variable: not production.
		{"", "--env was given an empty name (an unset variable?)"},
		{" ", "--env was given an empty name (an unset variable?)"},
	} {
		for _, cmd := range []string{"build", "plan", "compile", "seed", "run", "test"} {
			if tc.env != "" && strings.TrimSpace(tc.env) != "" && cmd != "build" && cmd != "plan" {
				continue
			}
			code, _, errOut := strataOut(t, dir, cmd, "--env", tc.env)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("%s --env %s: exit %d, %s; want 2 and %q", cmd, tc.env, code, errOut, tc.want)
			}
			// The name's error alone, not one for each schema it makes too long.
			n := 0
			for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
				if !strings.Contains(line, "warning:") { // the example's seeds, not generated here
					n++
				}
			}
			if n > 2 {
				t.Errorf("%s --env %s: %d lines of errors:\n%s", cmd, tc.env, n, errOut)
			}
		}
	}
}

// TestEnvironmentBuildsSerialize: two CI jobs building one environment
// take turns on its run lock, and the second says it waited; another
// environment does not wait for them. A state: selector on a target where
// nothing was built says so.
func TestEnvironmentBuildsSerialize(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: shop\nmodels:\n  '.': {schema: s}\n",
		"models/a.sql":  "select 1 as id",
		"models/b.sql":  `select id from {{ ref "a" }}`,
		"models/b2.sql": `select id + 1 as id from {{ ref "a" }}`,
	})
	code, _, errOut := strataOut(t, dir, "build", "-s", "state:modified")
	if code != 2 || !strings.Contains(errOut, "nothing is recorded in this target yet") {
		t.Fatalf("state: before any build: exit %d, %s", code, errOut)
	}
	must(t, 0, dir, "build")
	// Another project on the same database has recorded nothing yet,
	// though strata_meta holds shop's records.
	other := writeProject(t, url, map[string]string{"project.yaml": "name: other\n", "models/a.sql": "select 1 as id"})
	code, _, errOut = strataOut(t, other, "ls", "-s", "state:modified")
	if code != 2 || !strings.Contains(errOut, "nothing of project other is recorded for target") {
		t.Fatalf("state: in a project never built, beside another: exit %d, %s", code, errOut)
	}

	// Another job holds environment pr1's lock.
	ctx := context.Background()
	holder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	key := pgname.RunLock(pipeline.LockName("shop", "pr1"))
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(hashtextextended($1, 0))", key); err != nil {
		t.Fatal(err)
	}
	// pr2 builds meanwhile.
	must(t, 0, dir, "build", "--env", "pr2", "-s", "b")
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result)
	go func() {
		var out, errOut bytes.Buffer
		code := Main(ctx, []string{"--project-dir", dir, "--no-color", "build", "--env", "pr1", "-s", "b"}, &out, &errOut)
		done <- result{code, out.String(), errOut.String()}
	}()
	// The second job waits on the lock; then the first one ends.
	for i := 0; ; i++ {
		if queryInt(t, url, "select count(*) from pg_locks where locktype = 'advisory' and not granted") > 0 {
			break
		}
		if i == 600 {
			t.Fatal("the second build never waited for the lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := holder.Exec(ctx, "select pg_advisory_unlock(hashtextextended($1, 0))", key); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 0 || !strings.Contains(r.out, "Waiting for another strata run on environment pr1 of target t to finish ...") || !strings.Contains(r.out, "Waited ") {
		t.Fatalf("the second build: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if got := queryText(t, url, "select string_agg(n.nspname || '.' || c.relname, ',' order by n.nspname) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname like 's\\_\\_%'"); got != "s__pr1.b,s__pr2.b" {
		t.Errorf("environments hold %s, want b alone in each", got)
	}
}

// TestPlanSyncAllColumnsWithoutACast: under on_schema_change:
// sync_all_columns, build alters a retyped column with a cast of the
// table's values (using x::newtype); PostgreSQL has none from date to
// integer, so the build failed at the ALTER TABLE ('cannot cast type date
// to integer') while plan said only that rows loaded before keep the old
// logic, and check passed. plan now says the column has to be rebuilt
// (full refresh), check says the build's refusal at on_schema_change, and
// the build refuses before it changes anything; a retype PostgreSQL has
// a cast for (integer to bigint) is altered in place, as before.
func TestPlanSyncAllColumnsWithoutACast(t *testing.T) {
	url := pgtest.DB(t)
	inc := `{{ config "materialized" "incremental" "unique_key" "id" "on_schema_change" "sync_all_columns" }}select g as id, %s as d, g as n from generate_series(1, 2) g`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: sc\n",
		"models/inc.sql": fmt.Sprintf(inc, "date '2024-01-01' + g"),
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "models/inc.sql", fmt.Sprintf(inc, "g"))
	refusal := `models/inc.sql:1:4: on_schema_change: sync_all_columns would change column d of public.inc from date to integer, but PostgreSQL has no cast from date to integer for the values the table has, so the column has to be rebuilt: rebuild the table with --full-refresh`
	mustContain(t, must(t, 0, dir, "plan"), "full refresh: needs a full refresh: on_schema_change is sync_all_columns, but PostgreSQL has no cast for the retyped column d from date to integer, so build refuses to alter the table and the column has to be rebuilt (strata build --full-refresh -s inc)")
	mustContain(t, must(t, 1, dir, "check"), refusal, "OK=0 ERROR=1")
	mustContain(t, must(t, 1, dir, "build"), refusal)
	if got := queryText(t, url, "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = 'public.inc'::regclass and attname = 'd'"); got != "date" {
		t.Errorf("after the refused load d is %s, want date", got)
	}
	// A cast PostgreSQL has: no full refresh said, the column altered.
	writeFile(t, dir, "models/inc.sql", strings.Replace(fmt.Sprintf(inc, "date '2024-01-01' + g"), "g as n", "g::bigint as n", 1))
	if out := must(t, 0, dir, "plan"); strings.Contains(out, "needs a full refresh") {
		t.Errorf("integer to bigint: plan says it needs a full refresh:\n%s", out)
	}
	must(t, 0, dir, "check")
	must(t, 0, dir, "build")
	if got := queryText(t, url, "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = 'public.inc'::regclass and attname = 'n'"); got != "bigint" {
		t.Errorf("after the load n is %s, want bigint", got)
	}
}

// TestPlanViewsTheBuildCannotRecreate: a table model swapped in, or an
// incremental one whose sync_all_columns load drops or retypes columns,
// has the views on its relation recreated on the new version; a view by
// hand that reads a column the new version lacks, or does not hold on a
// new type, cannot be, and the build refuses ('refusing to replace
// public.tab: view rep.gone ...', 'refusing to change public.inc: view
// rep.sum ...') while plan said nothing of it (check's viewBreaks were
// skipped under plan's ColumnsOnly). plan now says each under the model,
// in check's words, in text, markdown and JSON; a view that reads only
// what is kept, or holds on the new type, and a view model the build
// redefines, are not named; once the views are dropped, plan names none.
func TestPlanViewsTheBuildCannotRecreate(t *testing.T) {
	url := pgtest.DB(t)
	inc := `{{ config "materialized" "incremental" "unique_key" "id" "on_schema_change" "sync_all_columns" }}select g as id, %s as amt from generate_series(1, 2) g`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: pv\n",
		"models/tab.sql": `{{ config "materialized" "table" }}select 1 as id, 2 as amt, 3 as gone`,
		"models/inc.sql": fmt.Sprintf(inc, "g * 2"),
		"models/v.sql":   `select id, amt * 2 as twice from {{ ref "inc" }}`,
	})
	must(t, 0, dir, "build")
	execSQL(t, url, "create schema rep", "create view rep.gone as select id, gone from public.tab",
		"create view rep.ids as select id, amt from public.tab",
		"create view rep.sum as select id, amt + 1 as a1 from public.inc", "create view rep.plain as select id, amt from public.inc")
	writeFiles(t, dir, map[string]string{
		"models/tab.sql": `{{ config "materialized" "table" }}select 1 as id, 2 as amt`,
		"models/inc.sql": fmt.Sprintf(inc, "'y' || g"),
		"models/v.sql":   `select id, amt || 'z' as twice from {{ ref "inc" }}`,
	})
	tab := `the model's query no longer returns column gone of public.tab, which view rep.gone reads: the build would fail when it recreates that view after the swap (refusing to replace public.tab); rep.gone is no strata model: change or drop it first, or return gone from the model`
	sum := `on_schema_change: sync_all_columns would change the type of column amt (integer to text) of public.inc, and the build would fail when it recreates the views on it after the change: refusing to change public.inc: view rep.sum depends on it and cannot be recreated on the new version (operator does not exist: text + integer`
	out := must(t, 0, dir, "plan")
	mustContain(t, out, "      build refuses: "+tab+"\n", "      build refuses: "+sum, "rep.sum is no strata model: change or drop it first, or keep the type of amt in the model")
	for _, not := range []string{"rep.ids", "rep.plain", "view public.v"} {
		if strings.Contains(out, not) {
			t.Errorf("plan names %s, which the build recreates:\n%s", not, out)
		}
	}
	mustContain(t, must(t, 0, dir, "plan", "--output", "markdown"), "- :warning: build refuses: the model's query no longer returns column gone of public.tab, which view rep.gone reads")
	views := map[string][]plan.View{}
	for _, c := range planJSON(t, dir).Modified {
		views[c.Name] = c.Views
	}
	if v := views["tab"]; len(v) != 1 || v[0].View != "rep.gone" || v[0].Error != tab {
		t.Errorf("plan --output json: tab's views_build_cannot_recreate = %+v, want rep.gone: %s", v, tab)
	}
	if v := views["inc"]; len(v) != 1 || v[0].View != "rep.sum" || !strings.HasPrefix(v[0].Error, sum) {
		t.Errorf("plan --output json: inc's views_build_cannot_recreate = %+v, want rep.sum: %s", v, sum)
	}
	if v := views["v"]; len(v) != 0 {
		t.Errorf("plan --output json: view model v has views_build_cannot_recreate %+v", v)
	}
	// check and the build say the same.
	mustContain(t, must(t, 1, dir, "check"), "models/tab.sql:1:1: "+tab, "models/inc.sql:1:4: "+sum)
	mustContain(t, must(t, 1, dir, "build"), "refusing to replace public.tab: view rep.gone depends on it and cannot be recreated on the new version")
	execSQL(t, url, "drop view rep.gone", "drop view rep.sum")
	if out := must(t, 0, dir, "plan"); strings.Contains(out, "build refuses") {
		t.Errorf("plan names views once none would stop the build:\n%s", out)
	}
	must(t, 0, dir, "build")
}

// TestPlanViewsOfModelsChangedThroughAParent: a model whose own SQL did
// not change but whose columns do, through a parent (a select * of a
// parent that drops a column, down to a grandchild; a column whose type
// comes from the parent), is rebuilt by the build on its new columns, and
// a view by hand on it that reads a dropped column, or does not hold on
// the new type, cannot be recreated: check failed and the build refused
// while plan named no view of an indirectly modified model. plan now says
// each under that model, in check's words, in text, markdown and JSON; a
// view that reads what is kept is not named. A view on a view model is
// recreated by the parent's swap (the view model redefined with its new
// SQL), and the build refuses the parent: plan and check say it under the
// parent, and nothing under the view model.
func TestPlanViewsOfModelsChangedThroughAParent(t *testing.T) {
	url := pgtest.DB(t)
	table := `{{ config "materialized" "table" }}`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: pt\n",
		"models/par.sql": table + `select 1 as id, 2 as amt, 3 as gone`,
		"models/ch.sql":  table + `select * from {{ ref "par" }}`,
		"models/gch.sql": table + `select * from {{ ref "ch" }}`,
		"models/chv.sql": `select * from {{ ref "par" }}`,
		"models/amt.sql": table + `select id, amt from {{ ref "par" }}`,
		"models/ids.sql": table + `select id from {{ ref "par" }}`,
	})
	must(t, 0, dir, "build")
	execSQL(t, url, "create schema rep", "create view rep.ch as select id, gone from public.ch",
		"create view rep.gch as select gone from public.gch", "create view rep.chv as select id, gone from public.chv",
		"create view rep.amt as select id, amt + 1 as a1 from public.amt", "create view rep.kept as select id, amt from public.ch",
		"create view rep.ids as select id from public.ids")
	writeFiles(t, dir, map[string]string{"models/par.sql": table + `select 1 as id, 'two' as amt`})
	gone := func(model string) string {
		return fmt.Sprintf("the model's query no longer returns column gone of public.%s, which view rep.%s reads: the build would fail when it recreates that view after the swap (refusing to replace public.%s); rep.%s is no strata model: change or drop it first, or return gone from the model", model, model, model, model)
	}
	amt := `the model's query changes the type of column amt (integer to text) of public.amt, and the build would fail when it recreates the views on it after the swap: refusing to replace public.amt: view rep.amt depends on it and cannot be recreated on the new version (operator does not exist: text + integer`
	par := `the model's query no longer returns column gone and changes the type of column amt (integer to text) of public.par, and the build would fail when it recreates the views on it after the swap: refusing to replace public.par: view rep.chv depends on it and cannot be recreated on the new version (column chv.gone does not exist [SQLSTATE 42703]); rep.chv is no strata model: change or drop it first, or return gone from the model and keep the type of amt in the model`
	out := must(t, 0, dir, "plan")
	mustContain(t, out, "  ~ ch (table, public.ch), through par\n      build refuses: "+gone("ch")+"\n",
		"  ~ gch (table, public.gch), through par\n      build refuses: "+gone("gch")+"\n",
		"  ~ chv (view, public.chv), through par\n  ~ gch",
		"      build refuses: "+par+"\n",
		"  ~ amt (table, public.amt), through par\n      build refuses: "+amt)
	if strings.Contains(out, "refusing to replace public.chv") {
		t.Errorf("plan names a refusal of the view model, which the build skips:\n%s", out)
	}
	for _, not := range []string{"rep.kept", "rep.ids"} {
		if strings.Contains(out, not) {
			t.Errorf("plan names %s, which the build recreates:\n%s", not, out)
		}
	}
	mustContain(t, must(t, 0, dir, "plan", "--output", "markdown"), "- `gch` through `par`\n  - :warning: build refuses: "+gone("gch"))
	views := map[string][]plan.View{}
	for _, m := range planJSON(t, dir).Indirect {
		views[m.Name] = m.Views
	}
	for _, m := range []string{"ch", "gch"} {
		if v := views[m]; len(v) != 1 || v[0].View != "rep."+m || v[0].Error != gone(m) {
			t.Errorf("plan --output json: %s's views_build_cannot_recreate = %+v, want rep.%s: %s", m, v, m, gone(m))
		}
	}
	if v := views["chv"]; len(v) != 0 {
		t.Errorf("plan --output json: view model chv has views_build_cannot_recreate %+v", v)
	}
	if pj := planJSON(t, dir).Modified; len(pj) != 1 || len(pj[0].Views) != 1 || pj[0].Views[0].View != "rep.chv" || pj[0].Views[0].Error != par {
		t.Errorf("plan --output json: par: %+v, want views_build_cannot_recreate rep.chv: %s", pj, par)
	}
	if v := views["amt"]; len(v) != 1 || v[0].View != "rep.amt" || !strings.HasPrefix(v[0].Error, amt) {
		t.Errorf("plan --output json: amt's views_build_cannot_recreate = %+v, want rep.amt: %s", v, amt)
	}
	if v := views["ids"]; len(v) != 0 {
		t.Errorf("plan --output json: ids, whose columns do not change, has views_build_cannot_recreate %+v", v)
	}
	// check and the build say the same: the build refuses par, check
	// fails it and checks nothing below it.
	mustContain(t, must(t, 1, dir, "check"), "models/par.sql:1:1: "+par, "models/chv.sql: model chv not checked: parent par failed", "models/ch.sql: model ch not checked: parent par failed")
	mustContain(t, must(t, 1, dir, "build"), "refusing to replace public.par: view rep.chv depends on it and cannot be recreated on the new version")
	execSQL(t, url, "drop view rep.chv")
	mustContain(t, must(t, 1, dir, "check"), "models/ch.sql:1:1: "+gone("ch"), "models/amt.sql:1:1: "+amt)
	execSQL(t, url, "drop view rep.ch", "drop view rep.gch", "drop view rep.amt")
	if out := must(t, 0, dir, "plan"); strings.Contains(out, "build refuses") {
		t.Errorf("plan names views once none would stop the build:\n%s", out)
	}
	must(t, 0, dir, "build")
}

// TestPlanSelectionLeavesAViewModelOut: under -s that leaves out a view
// model reading a column the selected table model drops, the build swaps
// the table in and recreates the view from its definition as it is (it
// builds only the selection), which cannot be: check -s and build -s
// refuse, and plan -s said nothing, as if the build redefined the view
// from its new SQL (plan checks what reads a changed model as selected).
// plan now says what the selected build does, in check's words; with
// the view model selected too, or by default (state:modified+), nothing.
func TestPlanSelectionLeavesAViewModelOut(t *testing.T) {
	url := pgtest.DB(t)
	table := `{{ config "materialized" "table" }}`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: ps\n",
		"models/par.sql": table + `select 1 as id, 2 as amt, 3 as gone`,
		"models/chv.sql": `select * from {{ ref "par" }}`,
		"models/ch.sql":  table + `select * from {{ ref "par" }}`,
	})
	must(t, 0, dir, "build")
	writeFiles(t, dir, map[string]string{"models/par.sql": table + `select 1 as id, 2 as amt`})
	refuses := `the model's query no longer returns column gone of public.par, which view public.chv reads: the build would fail when it recreates that view after the swap (refusing to replace public.par); public.chv is model chv, which is not selected: select it too (-s 'par chv') so that the build redefines it, or return gone from the model`
	mustContain(t, must(t, 0, dir, "plan", "-s", "par"), "      build refuses: "+refuses+"\n", "read downstream by ch (gone)")
	var views []plan.View
	for _, c := range planJSON(t, dir, "-s", "par").Modified {
		if c.Name == "par" {
			views = c.Views
		}
	}
	if len(views) != 1 || views[0].View != "public.chv" || views[0].Error != refuses {
		t.Errorf("plan -s par --output json: par's views_build_cannot_recreate = %+v, want public.chv: %s", views, refuses)
	}
	for _, args := range [][]string{{"plan", "-s", "par chv"}, {"plan"}} {
		if out := must(t, 0, dir, args...); strings.Contains(out, "build refuses") {
			t.Errorf("strata %s names a view the build redefines:\n%s", strings.Join(args, " "), out)
		}
	}
	// check and the build say the same.
	mustContain(t, must(t, 1, dir, "check", "-s", "par"), "models/par.sql:1:1: "+refuses)
	mustContain(t, must(t, 1, dir, "build", "-s", "par"), "refusing to replace public.par: view public.chv depends on it and cannot be recreated on the new version")
	must(t, 0, dir, "build", "-s", "par chv")
}

// TestPlanFullRefreshViews: an incremental model that plan says needs a
// full refresh is built anew and swapped in by build --full-refresh,
// with the views on its table recreated on the new one; a view by hand
// that reads a column the new table lacks, or does not hold on a new
// type, cannot be, and build --full-refresh refuses ('refusing to replace
// public.inc: view rep.gone ...'), while plan said only that it needs
// the full refresh. plan now says each under the model ('build
// --full-refresh refuses: ...', in check's words), in text, markdown and
// JSON; a view that reads only what is kept is not named.
func TestPlanFullRefreshViews(t *testing.T) {
	url := pgtest.DB(t)
	inc := `{{ config "materialized" "incremental" "unique_key" "id" "on_schema_change" "%s" }}select g as id, %s from generate_series(1, 2) g`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":    "name: pf\n",
		"models/inc.sql":  fmt.Sprintf(inc, "ignore", "g * 2 as amt, g as gone"),
		"models/inc2.sql": fmt.Sprintf(inc, "fail", "g * 2 as amt"),
	})
	must(t, 0, dir, "build")
	execSQL(t, url, "create schema rep", "create view rep.gone as select id, gone from public.inc",
		"create view rep.ids as select id, amt from public.inc", "create view rep.sum as select id, amt + 1 as a1 from public.inc2")
	writeFiles(t, dir, map[string]string{
		"models/inc.sql":  fmt.Sprintf(inc, "ignore", "g * 2 as amt"),
		"models/inc2.sql": fmt.Sprintf(inc, "fail", "'y' || g as amt"),
	})
	gone := `the model's query no longer returns column gone of public.inc, which view rep.gone reads: the build would fail when it recreates that view after the swap (refusing to replace public.inc); rep.gone is no strata model: change or drop it first, or return gone from the model`
	sum := `the model's query changes the type of column amt (integer to text) of public.inc2, and the build would fail when it recreates the views on it after the swap: refusing to replace public.inc2: view rep.sum depends on it and cannot be recreated on the new version (operator does not exist: text + integer`
	out := must(t, 0, dir, "plan")
	mustContain(t, out, "needs a full refresh to take the column change", "      build --full-refresh refuses: "+gone+"\n",
		"needs a full refresh: on_schema_change is fail", "      build --full-refresh refuses: "+sum)
	if strings.Contains(out, "rep.ids") {
		t.Errorf("plan names rep.ids, which reads only what the full refresh keeps:\n%s", out)
	}
	mustContain(t, must(t, 0, dir, "plan", "--output", "markdown"), "- :warning: build --full-refresh refuses: "+gone+"\n")
	views := map[string][]plan.View{}
	for _, c := range planJSON(t, dir).Modified {
		views[c.Name] = c.FullRefreshViews
	}
	if v := views["inc"]; len(v) != 1 || v[0].View != "rep.gone" || v[0].Error != gone {
		t.Errorf("plan --output json: inc's views_full_refresh_cannot_recreate = %+v, want rep.gone: %s", v, gone)
	}
	if v := views["inc2"]; len(v) != 1 || v[0].View != "rep.sum" || !strings.HasPrefix(v[0].Error, sum) {
		t.Errorf("plan --output json: inc2's views_full_refresh_cannot_recreate = %+v, want rep.sum: %s", v, sum)
	}
	// check --full-refresh and the build say the same.
	mustContain(t, must(t, 1, dir, "check", "--full-refresh"), "models/inc.sql:1:1: "+gone, "models/inc2.sql:1:1: "+sum)
	mustContain(t, must(t, 1, dir, "build", "--full-refresh"), "refusing to replace public.inc: view rep.gone depends on it", "refusing to replace public.inc2: view rep.sum depends on it")
	execSQL(t, url, "drop view rep.gone", "drop view rep.sum")
	if out := must(t, 0, dir, "plan"); strings.Contains(out, "refuses") {
		t.Errorf("plan names views once none would stop the full refresh:\n%s", out)
	}
	must(t, 0, dir, "build", "--full-refresh")
}

// TestPlanChanges: a renamed model is removed and added; a config change
// is listed key by key; an incremental model whose columns change says it
// needs a full refresh; plan changes nothing.
func TestPlanChanges(t *testing.T) {
	url := pgtest.DB(t)
	files := map[string]string{
		"project.yaml":   "name: shop\nmodels:\n  '.': {schema: s}\n",
		"models/a.sql":   "select 1 as id, 'x'::text as name",
		"models/old.sql": `select id from {{ ref "a" }}`,
		"models/inc.sql": `{{ config "materialized" "incremental" "unique_key" "id" }}select id from {{ ref "a" }}`,
	}
	dir := writeProject(t, url, files)
	must(t, 0, dir, "build")
	before := queryText(t, url, "select count(*)::text || '/' || max(built_at)::text from strata_meta.nodes")
	must(t, 0, dir, "plan") // nothing changed
	if err := os.Rename(filepath.Join(dir, "models", "old.sql"), filepath.Join(dir, "models", "renamed.sql")); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"models/a.sql":   `{{ config "materialized" "table" }}select 1 as id, 'x'::text as name`,
		"models/inc.sql": `{{ config "materialized" "incremental" "unique_key" "id" }}select id, name from {{ ref "a" }}`,
	})
	p := planJSON(t, dir)
	if len(p.Removed) != 1 || p.Removed[0].Name != "old" || len(p.Added) != 1 || p.Added[0].Name != "renamed" {
		t.Errorf("a rename: removed %+v, added %+v", p.Removed, p.Added)
	}
	got := map[string]plan.Change{}
	for _, c := range p.Modified {
		got[c.Name] = c
	}
	if a := got["a"]; len(a.Config) != 1 || a.Config[0] != (plan.ConfigChange{Key: "materialized", Old: `"view"`, New: `"table"`}) || a.Diff != "" {
		t.Errorf("a: %+v", a)
	}
	inc := got["inc"]
	if inc.Columns == nil || len(inc.Columns.Added) != 1 || inc.Columns.Added[0] != (plan.Column{Name: "name", Type: "text"}) || !strings.Contains(inc.FullRefresh, "needs a full refresh to take the column change") {
		t.Errorf("inc: %+v %+v", inc, inc.Columns)
	}
	if len(p.Modified) != 2 {
		t.Errorf("modified: %+v", p.Modified)
	}
	if after := queryText(t, url, "select count(*)::text || '/' || max(built_at)::text from strata_meta.nodes"); after != before {
		t.Errorf("plan changed strata_meta: %s, was %s", after, before)
	}
	if n := queryInt(t, url, "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 's' and c.relname = 'renamed'"); n != 0 {
		t.Errorf("plan built renamed")
	}
	if p.Added[0].CheckError != "" {
		t.Errorf("renamed, which check proves, has a check error: %s", p.Added[0].CheckError)
	}

	// An added model PostgreSQL rejects says so, in JSON, text and markdown.
	writeFiles(t, dir, map[string]string{"models/broken.sql": `select nosuch from {{ ref "a" }}`})
	p = planJSON(t, dir)
	var broken *plan.Model
	for i := range p.Added {
		if p.Added[i].Name == "broken" {
			broken = &p.Added[i]
		}
	}
	if broken == nil || !strings.Contains(broken.CheckError, `strata check could not prove the model`) || !strings.Contains(broken.CheckError, `nosuch`) {
		t.Errorf("an added model that does not check: %+v", broken)
	}
	mustContain(t, must(t, 0, dir, "plan"), "+ broken (view, s.broken)", "      not proven: strata check could not prove the model")
	mustContain(t, must(t, 0, dir, "plan", "-o", "markdown"), ": **not proven**: strata check could not prove the model")
}

// TestEnvironmentRunsChangedTests: a pull request that changes only a
// test changes nothing that an environment builds, but the test itself
// never passed in production: a build of state:modified+ in an environment
// runs it (reading production's relations), a data test and a unit test
// alike. Tests and unit tests that did not change are not modified.
func TestEnvironmentRunsChangedTests(t *testing.T) {
	url := pgtest.DB(t)
	const unit = "unit_tests:\n  - name: m_has_both\n    model: m\n    expect: {rows: [{id: 1}, {id: %d}]}\n"
	const tests = "models:\n  - name: m\n    columns:\n      - name: id\n        tests: [not_null%s]\n"
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: ct\nmodels: {'.': {materialized: table}}\n",
		"models/m.sql":      "select 1 as id union all select 2",
		"models/schema.yml": fmt.Sprintf(tests, ""),
		"models/unit.yml":   fmt.Sprintf(unit, 2),
	})
	must(t, 0, dir, "build")
	before := prodPrints(t, url)
	mustContain(t, must(t, 0, dir, "build", "--env", "pr", "-s", "state:modified+"), "Nothing to do")

	writeFile(t, dir, "models/schema.yml", fmt.Sprintf(tests, ", {accepted_values: {values: [1]}}"))
	out := must(t, 1, dir, "build", "--env", "pr", "-s", "state:modified+")
	mustContain(t, out, "Running 1 node", "FAIL 1 accepted_values_m_id")
	writeFile(t, dir, "models/schema.yml", fmt.Sprintf(tests, ""))

	writeFile(t, dir, "models/unit.yml", fmt.Sprintf(unit, 3))
	out = must(t, 1, dir, "build", "--env", "pr", "-s", "state:modified+")
	mustContain(t, out, "Running 1 node", "FAIL", "m_has_both")
	writeFile(t, dir, "models/unit.yml", fmt.Sprintf(unit, 2))
	mustContain(t, must(t, 0, dir, "build", "--env", "pr", "-s", "test_type:data"),
		"1 selected test is not run in environment pr: it reads only what is deferred to production, and passed there unchanged", "Nothing to do")

	if after := prodPrints(t, url); !maps.Equal(before, after) {
		t.Errorf("production changed:\n%v\n%v", before, after)
	}
}

// TestEnvDropAfterAFailedFirstBuild: an environment's first build that
// fails records nothing, but it created its schema; env drop removes it.
func TestEnvDropAfterAFailedFirstBuild(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: fd\nmodels: {'.': {schema: s, materialized: table}}\n",
		"models/a.sql": "select 1 as id",
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "models/a.sql", "select 1/0 as id")
	must(t, 1, dir, "build", "--env", "pr9")
	if got := queryInt(t, url, "select count(*) from pg_namespace where nspname = 's__pr9'"); got != 1 {
		t.Fatalf("the failed build left %d schemas s__pr9, want 1 (or this test tests nothing)", got)
	}
	mustContain(t, must(t, 0, dir, "env", "drop", "pr9"), "Dropped environment pr9", "s__pr9")
	if got := queryInt(t, url, "select count(*) from pg_namespace where nspname = 's__pr9'"); got != 0 {
		t.Errorf("env drop left schema s__pr9")
	}
	if got := queryInt(t, url, "select count(*) from s.a"); got != 1 {
		t.Errorf("production's a has %d rows", got)
	}
}

// planJSON is plan --output json of the project in dir, which must exit 0.
func planJSON(t *testing.T, dir string, args ...string) plan.Plan {
	t.Helper()
	code, out, errOut := strataOut(t, dir, append([]string{"plan", "--output", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("plan: exit %d %s", code, errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --output json: %v\n%s", err, out)
	}
	return p
}

// TestPlanSeedColumns: a seed whose file lost a column and gained another
// shows them in plan, with the models that read the lost one.
func TestPlanSeedColumns(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: ps\n",
		"seeds/c.csv":    "id,budget\n1,10\n",
		"models/use.sql": `select id, budget from {{ ref "c" }}`,
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "seeds/c.csv", "id,region\n1,north\n")
	p := planJSON(t, dir)
	if len(p.Modified) != 1 || p.Modified[0].Name != "c" {
		t.Fatalf("modified: %+v", p.Modified)
	}
	c := p.Modified[0]
	if c.Columns == nil || len(c.Columns.Added) != 1 || c.Columns.Added[0].Name != "region" || len(c.Columns.Removed) != 1 || c.Columns.Removed[0].Name != "budget" {
		t.Fatalf("c's columns: %+v (%s)", c.Columns, c.ColumnsError)
	}
	if !slices.ContainsFunc(c.Readers, func(r plan.Reader) bool { return r.Model == "use" && slices.Contains(r.Columns, "budget") }) {
		t.Errorf("plan does not name use as reading budget: %+v", c.Readers)
	}
}

// envBytes is environment env's size as env ls reads it (state.Envs).
func envBytes(t *testing.T, url, project, target, env string) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	envs, err := state.Envs(ctx, conn, project, target)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range envs {
		if e.Name == env {
			return e.Bytes
		}
	}
	t.Fatalf("env ls does not list %s: %+v", env, envs)
	return 0
}

// TestEnvLsCountsPartitions: env ls's size of an environment counts the
// partitions of its partitioned tables; it counted the partitioned table
// itself, which holds nothing (0 bytes).
func TestEnvLsCountsPartitions(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: sz\n",
		"models/parted.sql": `{{ config "materialized" "table" "partition_by" (dict "column" "day") }}
select g as id, date '2024-01-01' + g % 60 as day from generate_series(1, 20000) g`,
	})
	must(t, 0, dir, "build", "--env", "e1")
	if got := envBytes(t, url, "sz", "t", "e1"); got < 400_000 {
		t.Errorf("env ls says e1 takes %d bytes, want its 20,000 rows' (over 400 kB)", got)
	}
}

// TestNoDeferTestOfAnotherModel: with --no-defer, a test of a selected
// model that also reads a model outside the selection's ancestors (a
// relationships test's other model) read that model in the environment,
// where nothing built it, and failed (relation "s__e1.b" does not exist),
// so the model's audit failed too. It reads it as defer would,
// production's; where production has not built it either, the test is
// left out, and the build says so.
func TestNoDeferTestOfAnotherModel(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: nd\nmodels: {'.': {schema: s, materialized: table}}\n",
		"models/a.sql": "select 1 as id, 1 as b_id",
		"models/b.sql": "select 1 as id",
		"models/m.yml": "models:\n  - name: a\n    columns:\n      - name: b_id\n        tests: [{relationships: {to: b, field: id}}]\n",
	})
	// Production has not built b: the test is left out, a is built.
	out := must(t, 0, dir, "build", "--env", "e0", "--no-defer", "-s", "a")
	mustContain(t, out, "1 selected test is not run in environment e0", "relationships_a_b_id")
	must(t, 0, dir, "build")
	out = must(t, 0, dir, "build", "--env", "e1", "--no-defer", "-s", "a")
	mustContain(t, out, "PASS relationships_a_b_id")
	if got := queryInt(t, url, "select count(*) from pg_class where relname = 'b' and relnamespace = 's__e1'::regnamespace"); got != 0 {
		t.Errorf("--no-defer -s a built b in the environment")
	}
}

// TestCompileInAnEnvironment: compile --env shows the SQL a build in the
// environment would run: with defer, what is not selected reads
// production's recorded relations (read from the target); with
// --no-defer, offline, the selection and its ancestors are the
// environment's and a test's other model is production's.
func TestCompileInAnEnvironment(t *testing.T) {
	url := pgtest.DB(t)
	files := map[string]string{
		"project.yaml": "name: ce\nmodels: {'.': {schema: s, materialized: table}}\n",
		"models/a.sql": "select 1 as id",
		"models/c.sql": "select 1 as id",
		"models/b.sql": `select id from {{ ref "a" }}`,
		"models/m.yml": "models:\n  - name: b\n    columns:\n      - name: id\n        tests: [{relationships: {to: c, field: id}}]\n",
	}
	dir := writeProject(t, url, files)
	must(t, 0, dir, "build")
	read := func(dir, path string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "target", "compiled", path))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	must(t, 0, dir, "compile", "--env", "e1", "-s", "b")
	if got := read(dir, "models/b.sql"); !strings.Contains(got, `"s"."a"`) {
		t.Errorf("compile --env e1 -s b: b does not read production's a:\n%s", got)
	}
	// Offline: a target nothing listens on.
	files["project.yaml"] += "target: t\ntargets:\n  t: {type: postgres, url: 'postgres://nobody@127.0.0.1:1/none?connect_timeout=2'}\n"
	off := writeProject(t, "", files)
	must(t, 0, off, "compile", "--env", "e1", "--no-defer", "-s", "b")
	if got := read(off, "models/b.sql"); !strings.Contains(got, `"s__e1"."a"`) {
		t.Errorf("compile --env e1 --no-defer -s b: b does not read the environment's a:\n%s", got)
	}
	if got := read(off, "models/m.yml/relationships_b_id.sql"); !strings.Contains(got, `"s__e1"."b"`) || !strings.Contains(got, `"s"."c"`) {
		t.Errorf("compile --env e1 --no-defer: the test does not read the environment's b and production's c:\n%s", got)
	}
	// Defer needs production's record, which the target holds.
	mustContain(t, must(t, 1, off, "compile", "--env", "e1", "-s", "b"), "strata compile: target t")
}

// TestTestAndRunInAnEnvironment: test --env and run --env took every
// selected model and seed for one the run builds, though test builds
// nothing and run no seed: test --env after building one model there read
// every other model's tests from the environment's schemas, where nothing
// was built (relation "s__e1.a" does not exist), and run --env -s +b read
// the seed from the environment too. What the command does not build
// reads what the environment built as the project is now, else
// production's; a test of only production's that did not change is not
// rerun.
func TestTestAndRunInAnEnvironment(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: tr\nmodels: {'.': {schema: s, materialized: table}}\nseeds: {schema: s}\n",
		"seeds/raw.csv": "id\n1\n2\n",
		"models/a.sql":  `select id from {{ ref "raw" }}`,
		"models/b.sql":  `select id from {{ ref "a" }}`,
		"models/m.yml":  "models:\n  - name: a\n    columns:\n      - {name: id, tests: [unique]}\n  - name: b\n    columns:\n      - {name: id, tests: [not_null]}\n",
	})
	must(t, 0, dir, "build")
	before := prodPrints(t, url)
	writeFile(t, dir, "models/b.sql", `select id, 1 as x from {{ ref "a" }}`)
	must(t, 0, dir, "build", "--env", "e1", "-s", "state:modified+")
	out := must(t, 0, dir, "test", "--env", "e1")
	mustContain(t, out, "PASS not_null_b_id", "1 selected test is not run in environment e1")
	if strings.Contains(out, "unique_a_id") {
		t.Errorf("test --env e1 ran a's test, which reads only production's a:\n%s", out)
	}
	// A test selected by name that reads only production's runs there.
	mustContain(t, must(t, 0, dir, "test", "--env", "e1", "-s", "a"), "Nothing to do")

	// run builds no seed: the seed is read where production loaded it.
	mustContain(t, must(t, 0, dir, "run", "--env", "e2", "-s", "+b"), "OK created table model s__e2.a", "OK created table model s__e2.b")
	if got := queryInt(t, url, "select count(*) from s__e2.b"); got != 2 {
		t.Errorf("s__e2.b has %d rows, want 2", got)
	}
	if got := queryInt(t, url, "select count(*) from pg_class where relname = 'raw' and relnamespace::regnamespace::text like '%\\_\\_%'"); got != 0 {
		t.Errorf("run --env loaded the seed in an environment")
	}
	// test --env e2: a and b are the environment's own.
	mustContain(t, must(t, 0, dir, "test", "--env", "e2"), "PASS unique_a_id", "PASS not_null_b_id")
	if after := prodPrints(t, url); !maps.Equal(before, after) {
		t.Errorf("production changed:\n%v\n%v", before, after)
	}
}

// TestEnvironmentViewHoldsProductionBack: a view an environment built
// reads production's relations where it defers to them, and PostgreSQL
// records that; a production build that drops a column the view reads
// cannot recreate it, and refused (rightly: the view is not silently
// lost) with an error that named the view alone, not that it is an
// environment's nor what to do. It says so, for a model and a seed, and
// after env drop production builds.
func TestEnvironmentViewHoldsProductionBack(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: hb\nmodels: {'.': {schema: s}}\nseeds: {schema: s}\n",
		"seeds/raw.csv": "id,x\n1,2\n",
		"models/a.sql":  `{{ config "materialized" "table" }}select 1 as id, 2 as x`,
		"models/b.sql":  `select id, x from {{ ref "a" }}`,
		"models/c.sql":  `select id, x from {{ ref "raw" }}`,
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "models/b.sql", `select id, x, 1 as y from {{ ref "a" }}`)
	writeFile(t, dir, "models/c.sql", `select id, x, 1 as y from {{ ref "raw" }}`)
	must(t, 0, dir, "build", "--env", "e1", "-s", "state:modified+")

	// The change merged: x is gone from a and from the seed, and from
	// what reads them.
	writeFile(t, dir, "seeds/raw.csv", "id\n1\n")
	writeFile(t, dir, "models/a.sql", `{{ config "materialized" "table" }}select 1 as id`)
	writeFile(t, dir, "models/b.sql", `select id from {{ ref "a" }}`)
	writeFile(t, dir, "models/c.sql", `select id from {{ ref "raw" }}`)
	out := must(t, 1, dir, "build")
	mustContain(t, out,
		"view s__e1.b depends on it", "s__e1.b is environment e1's build of model b, which reads this relation where the environment defers to production: drop the environment (strata env drop e1;",
		"view s__e1.c depends on it", "s__e1.c is environment e1's build of model c")
	must(t, 0, dir, "env", "drop", "e1")
	must(t, 0, dir, "build")
}

// TestRemovedModelsInPlan: plan listed a removed model as removed, and
// after the build that deployed the removal it still did, forever: build
// drops no relation of a removed model, and production's record of it
// stayed even once its relation was dropped by hand. plan says that build
// drops none (naming those still there, not one another model now
// places), and a build in production forgets the removed ones whose
// relations are gone or are another model's now.
func TestRemovedModelsInPlan(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: rm\nmodels: {'.': {schema: s, materialized: table}}\n",
		"models/a.sql": "select 1 as id",
		"models/b.sql": "select 2 as id",
		"models/c.sql": `select id from {{ ref "a" }}`,
	})
	must(t, 0, dir, "build")
	for _, f := range []string{"models/b.sql", "models/c.sql"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, dir, "models/c2.sql", `{{ config "alias" "c" }}select id from {{ ref "a" }}`)
	names := func(ms []plan.Model) (out []string) {
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	const note = "build drops no relation of a removed model or seed: s.b stays in production"
	p := planJSON(t, dir)
	if got := names(p.Removed); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("removed %v, want [b c]", got)
	}
	if !slices.ContainsFunc(p.Notes, func(n string) bool { return strings.Contains(n, note) }) || strings.Contains(strings.Join(p.Notes, " "), "s.c") {
		t.Errorf("plan's notes %q, want %q and not s.c, which c2 places", p.Notes, note)
	}
	must(t, 0, dir, "build")
	p = planJSON(t, dir)
	if got := names(p.Removed); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after the build, removed %v, want [b] (c's relation is c2's)", got)
	}
	execSQL(t, url, "drop table s.b")
	must(t, 0, dir, "build", "-s", "a")
	if p = planJSON(t, dir); len(p.Removed) != 0 || len(p.Notes) != 0 {
		t.Errorf("after s.b was dropped, plan lists removed %v, notes %q", names(p.Removed), p.Notes)
	}
}

// TestRetryInAnEnvironment: retry --env repeats the environment's failed
// run, though production ran from the same folder since, and says where
// it runs: its line said "on target t" alone, so which environment a
// retry went to was read only in its relations' schemas.
func TestRetryInAnEnvironment(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: re\nmodels: {'.': {schema: s, materialized: table}}\n",
		"models/a.sql": "select 1 as id",
		"models/b.sql": `select id from {{ ref "a" }}`,
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "models/b.sql", `select id / {{ var "d" 0 }} as id from {{ ref "a" }}`)
	mustContain(t, must(t, 1, dir, "build", "--env", "e1", "-s", "state:modified+"), "on target t, in environment e1", "ERROR=1")
	must(t, 0, dir, "build", "-s", "a")
	mustContain(t, must(t, 0, dir, "retry"), "Nothing to retry")
	out := must(t, 0, dir, "retry", "--env", "e1", "--vars", "d: 1")
	mustContain(t, out, "Running 1 node with 4 threads on target t, in environment e1", "OK created table model s__e1.b")
	if got := queryInt(t, url, "select count(*) from s.b"); got != 1 {
		t.Errorf("production's b has %d rows", got)
	}
}

// TestRetryNoDeferRunsOnlyWhatFailed: retry of a build --env --no-defer
// took the nodes to run again for a selection and added their ancestors
// once more, so it built again what the run had built (a killed run of
// the example: "running again the 42 nodes it did not complete", then
// "Running 109 nodes"). It runs those nodes, reading the ancestors the
// run built in the environment.
func TestRetryNoDeferRunsOnlyWhatFailed(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: rn\nmodels: {'.': {schema: s, materialized: table}}\n",
		"models/a.sql": "select 1 as id",
		"models/b.sql": `select id from {{ ref "a" }}`,
		"models/c.sql": `select id / {{ var "d" 0 }} as id from {{ ref "b" }}`,
	})
	must(t, 0, dir, "build", "--vars", "d: 1")
	mustContain(t, must(t, 1, dir, "build", "--env", "e1", "--no-defer", "-s", "c"), "OK created table model s__e1.b", "ERROR=1")
	out := must(t, 0, dir, "retry", "--env", "e1", "--vars", "d: 1")
	mustContain(t, out, "Running 1 node ", "OK created table model s__e1.c")
	if strings.Contains(out, "s__e1.a") {
		t.Errorf("retry built a again:\n%s", out)
	}
	if got := queryInt(t, url, "select count(*) from s__e1.c"); got != 1 {
		t.Errorf("s__e1.c has %d rows, want 1", got)
	}
}

// TestDeferWhenTheEnvironmentsOwnIsGone: a model built in an environment,
// its relation dropped there by hand since, stopped every build in the
// environment that read it, blaming production ("production lacks model
// a (read by b): its relation s__e5.a no longer exists: build it in
// production first"), which has it. Production's is read, as if the
// environment had never built it; when production's is gone too, the
// error names production's.
func TestDeferWhenTheEnvironmentsOwnIsGone(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: dg\nmodels: {'.': {schema: s, materialized: table}}\n",
		"models/a.sql": "select 1 as id",
		"models/b.sql": `select id from {{ ref "a" }}`,
	})
	must(t, 0, dir, "build")
	must(t, 0, dir, "build", "--env", "e5", "-s", "a")
	execSQL(t, url, "drop table s__e5.a")
	mustContain(t, must(t, 0, dir, "build", "--env", "e5", "-s", "b"), "OK created table model s__e5.b")
	execSQL(t, url, "drop table s.a")
	mustContain(t, must(t, 1, dir, "build", "--env", "e5", "-s", "b"), "production lacks model a (read by b): its relation s.a no longer exists")
}

// TestDeferHintFitsTheCommand: what production lacks was to be built
// with --no-defer, which builds what the command builds: nothing for
// test, no seed for run. Those say to build it in the environment (or in
// production) first; build keeps the --no-defer hint.
func TestDeferHintFitsTheCommand(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: dh\nmodels: {'.': {schema: s, materialized: table}}\n",
		"seeds/raw.csv": "id\n1\n",
		"models/a.sql":  `select id from {{ ref "raw" }}`,
		"models/a.yml":  "models:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [not_null]\n",
	})
	out := must(t, 1, dir, "test", "--env", "e7")
	mustContain(t, out, "production lacks model a (read by not_null_a_id): production has no record of it: strata test builds nothing (nor does it with --no-defer): build it in the environment first (strata build --env e7 -s a) or in production")
	if strings.Contains(out, "--no-defer to build") {
		t.Errorf("test --env suggests --no-defer, which builds nothing for test:\n%s", out)
	}
	out = must(t, 1, dir, "run", "--env", "e7")
	mustContain(t, out, "production lacks seed raw (read by a): production has no record of it: strata run builds no seeds (nor does it with --no-defer): build it in the environment first (strata build --env e7 -s raw) or in production")
	must(t, 0, dir, "seed")
	mustContain(t, must(t, 1, dir, "test", "--env", "e7"), "strata test builds nothing")
	must(t, 0, dir, "build", "--env", "e7", "-s", "a")
	mustContain(t, must(t, 0, dir, "test", "--env", "e7"), "PASS")
}

// TestEnvLsLastBuild: env ls's LAST BUILD counted test runs, which build
// nothing: a strata test --env moved it. It is the last build of a model
// or seed in the environment; an environment where only tests ran says
// never. The project has a source and an exposure, which every run
// (a test run too) records at its end: they are not built either.
func TestEnvLsLastBuild(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: lb\nmodels: {'.': {schema: s, materialized: table}}\n",
		"models/a.sql": "select 1 as id",
		"models/a.yml": "models:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [not_null]\n" +
			"sources:\n  - name: ext\n    schema: public\n    tables:\n      - name: t\n" +
			"exposures:\n  - name: report\n    type: dashboard\n    owner: {name: A}\n    depends_on: [a]\n",
		"tests/t.sql": `select * from {{ ref "a" }} where id < 0`,
	})
	must(t, 0, dir, "build")
	must(t, 0, dir, "build", "--env", "e8", "-s", "a")
	execSQL(t, url, "update strata_meta.nodes set built_at = '2020-01-02 03:04:05+00' where env = 'e8'")
	must(t, 0, dir, "test", "--env", "e8")
	// A test new in e9, reading only production's a, runs there and is
	// recorded there: e9 has built nothing.
	writeFile(t, dir, "tests/t9.sql", `select * from {{ ref "a" }} where id > 5`)
	must(t, 0, dir, "test", "--env", "e9", "-s", "t9")
	out := must(t, 0, dir, "env", "ls")
	for _, want := range []string{"e8    1       ", "2020-01-02 03:04:05Z", "e9    0       "} {
		if !strings.Contains(out, want) {
			t.Errorf("env ls lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^e9 .* never$`).MatchString(out) {
		t.Errorf("env ls: e9, where only a test ran, should say never:\n%s", out)
	}
}

// TestDeferHintFitsCompile: compile builds nothing, so where production
// lacks what a compiled model reads, --no-defer (which builds nothing for
// compile either) is no way to build it; the error says to build it.
func TestDeferHintFitsCompile(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: dc\nmodels: {'.': {schema: s, materialized: table}}\n",
		"seeds/raw.csv": "id\n1\n",
		"models/a.sql":  `select id from {{ ref "raw" }}`,
	})
	out := must(t, 1, dir, "compile", "--env", "e8", "-s", "a")
	mustContain(t, out, "production lacks seed raw (read by a): production has no record of it: strata compile builds nothing (nor does it with --no-defer): build it in the environment first (strata build --env e8 -s raw) or in production")
	if strings.Contains(out, "--no-defer to build") {
		t.Errorf("compile --env suggests --no-defer to build, which builds nothing for compile:\n%s", out)
	}
}

// TestPlanSaysUnselectedParentsNotAsExpected: plan -s said nothing of a
// model outside the selection that a selected model reads, whose
// relation was not what the build expects: missing (dropped), stale (its
// SQL, or that of an unselected model above it, changed since it was
// built) or changed by hand (other columns than recorded). The build
// reads it as it is. plan now says so, one line per parent, in text,
// markdown and JSON, in production and in an environment, and nothing
// of a parent that is as recorded.
func TestPlanSaysUnselectedParentsNotAsExpected(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: pp\nmodels: {'.': {materialized: table}}\n",
		"seeds/s.csv":   "id\n1\n",
		"models/a.sql":  `select 1 as id`,
		"models/b.sql":  `{{ config "materialized" "view" }}select id from {{ ref "a" }}`,
		"models/e.sql":  `{{ config "materialized" "ephemeral" }}select id from {{ ref "b" }}`,
		"models/c.sql":  `select id from {{ ref "e" }}`,
		"models/d.sql":  `select id from {{ ref "a" }}`,
		"models/h.sql":  `select 2 as id`,
		"models/rh.sql": `select id from {{ ref "h" }}`,
		"models/x.sql":  `select id from {{ ref "s" }}`,
	})
	must(t, 0, dir, "build")
	head := "\nRead but not selected, and not as the build expects ("
	if out := must(t, 0, dir, "plan", "-s", "c d rh x"); strings.Contains(out, head) {
		t.Fatalf("plan names parents that are as production built them:\n%s", out)
	}
	writeFile(t, dir, "models/a.sql", `select 1 as id, 2 as two`)
	execSQL(t, url, "drop table public.s cascade", "alter table public.h add column extra integer")
	fix := func(name string) string {
		return "; select " + name + " too to build it as the project has it, or build it first"
	}
	lines := map[string]string{
		// c reads b through ephemeral e; b is a view of a, which changed.
		"b": "  ! b (view, public.b), read by c: stale: model a, which it reads and which is not selected either, changed (sql) since it was built, and the build reads public.b as it is; select a and b too to build them as the project has them, or build them first",
		"a": "  ! a (table, public.a), read by d: stale: its sql changed since production built it, and the build reads public.a as production built it" + fix("a"),
		"h": "  ! h (table, public.h), read by rh: changed by hand: public.h has other columns than production recorded when it built it (+ extra integer)" + fix("h"),
		"s": "  ! s (seed, public.s), read by x: missing: public.s does not exist, so the build of x fails" + fix("s"),
	}
	out := must(t, 0, dir, "plan", "-s", "c d rh x")
	mustContain(t, out, head+"4):\n")
	for _, l := range lines {
		mustContain(t, out, l+"\n")
	}
	// Selected, a parent is rebuilt: nothing is said of it.
	if out := must(t, 0, dir, "plan", "-s", "a d"); strings.Contains(out, head) {
		t.Errorf("plan -s 'a d' names a parent:\n%s", out)
	}
	p := planJSON(t, dir, "-s", "c d rh x")
	why := map[string]string{}
	for _, par := range p.Parents {
		why[par.Name] = strings.Join(par.Why, ",") + " " + strings.Join(par.ReadBy, ",") + " " + par.Relation
	}
	want := map[string]string{"a": "stale d public.a", "b": "stale c public.b", "h": "changed_by_hand rh public.h", "s": "missing x public.s"}
	if !maps.Equal(why, want) {
		t.Errorf("plan --output json: unselected_parents %v, want %v", why, want)
	}
	mustContain(t, must(t, 0, dir, "plan", "-s", "x", "--output", "markdown"),
		"#### Read but not selected, and not as the build expects\n\n- `s` (seed, `public.s`), read by `x`: :warning: missing: public.s does not exist, so the build of x fails")
	// In an environment, what the build defers to: production lacks s,
	// so the build stops before it starts.
	mustContain(t, must(t, 0, dir, "plan", "--env", "e1", "-s", "x"),
		"  ! s (seed, public.s), read by x: missing: public.s does not exist, and the build in environment e1 defers to production what it does not build, so it stops before anything runs"+fix("s"))
	mustContain(t, must(t, 1, dir, "build", "--env", "e1", "-s", "x"), "production lacks seed s (read by x)")
	// And the build does what plan said: x fails without s.
	mustContain(t, must(t, 1, dir, "build", "-s", "x"), `relation "public.s" does not exist`)
}
