package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/pgtest"
)

// writeProject lays out a project in a fresh folder; a project.yaml that does
// not name targets gets one pointing at url.
func writeProject(t *testing.T, url string, files map[string]string) string {
	t.Helper()
	return writeProjectB(t, url, files)
}

func writeProjectB(t testing.TB, url string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if name == "project.yaml" && url != "" && !strings.Contains(body, "targets:") {
			body += "\ntarget: t\ntargets:\n  t: {type: postgres, url: '" + url + "', threads: 4}\n"
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// strata runs the CLI on dir and returns the exit code and everything printed.
func strata(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	return strataB(t, dir, args...)
}

func strataB(t testing.TB, dir string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"--project-dir", dir, "--no-color"}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

func queryInt(t *testing.T, url, sql string) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

var shopFiles = map[string]string{
	"project.yaml": `name: mini
models:
  staging: {materialized: view, schema: staging}
  marts: {materialized: table, schema: marts}
seeds: {schema: raw}
`,
	"seeds/raw_orders.csv":          "order_id,customer,amount,ordered_on,code\n1,ann,10.50,2024-01-01,007\n2,bob,5,2024-01-01,010\n3,ann,7.25,2024-01-02,\n",
	"models/staging/stg_orders.sql": `select order_id, upper(customer) as customer, amount, ordered_on, code from {{ ref "raw_orders" }}`,
	"models/marts/daily.sql":        `select ordered_on, sum(amount) as revenue, count(*) as orders from {{ ref "stg_orders" }} group by ordered_on`,
	"models/schema.yml": `models:
  - name: stg_orders
    columns:
      - name: order_id
        tests: [unique, not_null]
      - name: customer
        tests:
          - accepted_values: {values: [ANN, BOB]}
  - name: daily
    columns:
      - name: ordered_on
        tests: [unique, not_null]
`,
}

func TestBuildEndToEnd(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, shopFiles)
	code, out := strata(t, dir, "build")
	if code != 0 {
		t.Fatalf("build exited %d:\n%s", code, out)
	}
	for _, want := range []string{
		"OK loaded seed raw.raw_orders",
		"OK created view model staging.stg_orders",
		"OK created table model marts.daily",
		"PASS unique_stg_orders_order_id",
		"PASS=8 WARN=0 FAIL=0 ERROR=0 SKIP=0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if got := queryInt(t, url, "select count(*) from marts.daily"); got != 2 {
		t.Errorf("marts.daily has %d rows, want 2", got)
	}
	// Type inference: a leading-zero code stays text, so '007' survives.
	if got := queryInt(t, url, "select count(*) from raw.raw_orders where code = '007'"); got != 1 {
		t.Errorf("code 007 was not kept as text")
	}
	// A second build also succeeds (the seed is unchanged and skipped; models are swapped).
	code, out = strata(t, dir, "build")
	if code != 0 || !strings.Contains(out, "unchanged") {
		t.Fatalf("second build exited %d:\n%s", code, out)
	}
	for _, f := range []string{"manifest.json", "run_results.json", "junit.xml", "strata.log", "compiled/models/marts/daily.sql", "run/models/marts/daily.sql"} {
		if _, err := os.Stat(filepath.Join(dir, "target", f)); err != nil {
			t.Errorf("target/%s: %v", f, err)
		}
	}
}

func TestSQLErrorFailsOnlyItsDescendants(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: broken\nmodels:\n  '.': {materialized: table}\n",
		"models/bad.sql":   "select 1 as id,\n  no_such_column as x\nfrom (select 1) as t",
		"models/child.sql": `select * from {{ ref "bad" }}`,
		"models/good.sql":  "select 42 as answer",
		"models/good2.sql": `select answer + 1 as answer from {{ ref "good" }}`,
	})
	code, out := strata(t, dir, "run")
	if code != 1 {
		t.Fatalf("run exited %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"ERROR table model public.bad",
		`column "no_such_column" does not exist`,
		"at line 2 of target/compiled/models/bad.sql",
		"SKIP table model public.child",
		"skipped because model.broken.bad failed",
		"OK created table model public.good ",
		"OK created table model public.good2",
		"PASS=2 WARN=0 FAIL=0 ERROR=1 SKIP=1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if got := queryInt(t, url, "select answer from public.good2"); got != 43 {
		t.Errorf("good2 = %d", got)
	}
}

func TestMalformedCSVKeepsTheOldTable(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: seeds\n",
		"seeds/people.csv": "id,name\n1,ann\n2,bob\n",
	})
	if code, out := strata(t, dir, "seed"); code != 0 {
		t.Fatalf("first seed exited %d:\n%s", code, out)
	}
	bad := "id,name\n1,ann\n2,bob\n3,carl,extra\n4,dan\n"
	if err := os.WriteFile(filepath.Join(dir, "seeds", "people.csv"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := strata(t, dir, "seed")
	if code != 1 {
		t.Fatalf("seed of a malformed CSV exited %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, "seeds/people.csv:4") {
		t.Errorf("the error does not name the file and line:\n%s", out)
	}
	if got := queryInt(t, url, "select count(*) from public.people"); got != 2 {
		t.Errorf("people has %d rows after the failed load, want the old 2", got)
	}
}

func TestProjectErrorsExit2BeforeAnythingRuns(t *testing.T) {
	dir := writeProject(t, "", map[string]string{
		"project.yaml": "name: cyc\n",
		"models/a.sql": `select * from {{ ref "b" }}`,
		"models/b.sql": `select * from {{ ref "a" }}`,
		"models/c.sql": `select * from {{ ref "nope" }}`,
	})
	code, out := strata(t, dir, "run")
	if code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", code, out)
	}
	for _, want := range []string{"dependency cycle: a -> b -> a", `models/c.sql:1:18: ref "nope": no model or seed is called "nope"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// mustContain fails the test for each of wants that out lacks.
func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestSCD2SwitchedAwayKeepsHistory: an scd2 dimension whose model is
// made another materialization (a table, a view, an incremental) is not
// replaced, since that drops its history, unless --full-refresh-scd2 says
// so; it was replaced (or merged into) silently.
func TestSCD2SwitchedAwayKeepsHistory(t *testing.T) {
	url := pgtest.DB(t)
	dim := `{{ config "materialized" "%s" "unique_key" "id" "strategy" "check" }}select id, 'v{{ var "v" }}' as name from generate_series(1, 2) id`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: p\nvars: {v: 1}\n",
		"models/dim.sql": fmt.Sprintf(dim, "scd2"),
		"models/use.sql": `select id, name from {{ ref "dim" }}`,
	})
	must(t, 0, dir, "run")
	must(t, 0, dir, "run", "--vars", "v: 2")
	for _, mat := range []string{"table", "view", "incremental", "materialized_view"} {
		writeFile(t, dir, "models/dim.sql", fmt.Sprintf(dim, mat))
		out := must(t, 1, dir, "run")
		mustContain(t, out, "models/dim.sql:1:4: materialized: public.dim is an scd2 dimension (it was last built with materialized: scd2), and building it with materialized: "+mat+" would lose its history; add --full-refresh-scd2 to do that")
		if got := queryInt(t, url, "select count(*) from public.dim where not is_current"); got != 2 {
			t.Fatalf("%s: %d closed versions left, want 2", mat, got)
		}
	}
	writeFile(t, dir, "models/dim.sql", fmt.Sprintf(dim, "table"))
	must(t, 0, dir, "run", "--full-refresh-scd2")
	if got := queryInt(t, url, "select count(*) from public.dim"); got != 2 {
		t.Errorf("with --full-refresh-scd2: %d rows, want 2", got)
	}
	// Once built as a table, it is one.
	must(t, 0, dir, "run")
	// Built as an incremental model with --full-refresh-scd2, the
	// dimension is replaced whole: it was merged into, each key's
	// versions updated (4 rows for 2 keys) and the dimension's columns
	// kept.
	writeFile(t, dir, "models/dim.sql", fmt.Sprintf(dim, "scd2"))
	must(t, 0, dir, "run", "--full-refresh", "--full-refresh-scd2")
	must(t, 0, dir, "run", "--vars", "v: 3")
	writeFile(t, dir, "models/dim.sql", fmt.Sprintf(dim, "incremental"))
	must(t, 0, dir, "run", "--full-refresh-scd2")
	if got := queryText(t, url, "select (select count(*) from public.dim) || ' ' || string_agg(attname, ',' order by attnum) from pg_attribute where attrelid = 'public.dim'::regclass and attnum > 0 and not attisdropped"); got != "2 id,name" {
		t.Errorf("scd2 built as incremental with --full-refresh-scd2: %s, want 2 rows of id,name", got)
	}
	// and it is incremental from then on.
	out := must(t, 0, dir, "run", "--vars", "v: 4")
	mustContain(t, out, "MERGE 2")
}

// TestFullRefreshNamesEveryDimension: --full-refresh refuses to rebuild
// the selected scd2 models and names each of them, so that the --exclude
// it suggests leaves them all out. It named the first alone: a run that
// followed its advice was refused again for the next one.
func TestFullRefreshNamesEveryDimension(t *testing.T) {
	url := pgtest.DB(t)
	dim := `{{ config "materialized" "scd2" "unique_key" "id" "strategy" "check" }}select * from {{ ref "src" }}`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: p\nmodels: {'.': {schema: p, materialized: table}}\n",
		"models/src.sql":   "select 1 as id, 'a'::text as name",
		"models/dim_b.sql": dim,
		"models/dim_a.sql": dim,
	})
	must(t, 0, dir, "build")
	code, out := strata(t, dir, "build", "--full-refresh")
	want := "strata build: --full-refresh would destroy the history of scd2 models dim_a, dim_b; add --full-refresh-scd2 to do that, or leave them out with --exclude 'dim_a dim_b'"
	if code != ExitBadInput || !strings.Contains(out, want) {
		t.Fatalf("build --full-refresh: exit %d, want %d and\n%s\nin:\n%s", code, ExitBadInput, want, out)
	}
	// The advice, followed: everything else is rebuilt.
	out = must(t, 0, dir, "build", "--full-refresh", "--exclude", "dim_a dim_b")
	mustContain(t, out, "OK created table model p.src")
	code, out = strata(t, dir, "run", "--full-refresh", "-s", "dim_b")
	if want := "--full-refresh would destroy the history of scd2 model dim_b; add --full-refresh-scd2 to do that, or leave it out with --exclude dim_b"; code != ExitBadInput || !strings.Contains(out, want) {
		t.Errorf("run --full-refresh -s dim_b: exit %d\n%s", code, out)
	}
}
