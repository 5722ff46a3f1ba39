package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/artifacts"
	"strata/engine/internal/pgtest"
)

// userRelations lists the relations and schemas outside PostgreSQL's own,
// to compare a database before and after a check.
func userRelations(t *testing.T, url string) string {
	t.Helper()
	rows := queryRows(t, url, `select n.nspname || '.' || coalesce(c.relname, '') || ':' || coalesce(c.relkind::text, '') || ':' || coalesce(c.oid::text, '')
		from pg_namespace n left join pg_class c on c.relnamespace = n.oid
		where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp%' and n.nspname not like 'pg_toast_temp%'
		order by 1`)
	var out []string
	for _, r := range rows {
		out = append(out, r[0])
	}
	return strings.Join(out, "\n")
}

// exampleOn copies the example project with generated data (a small
// scale) and points its prod target at url.
func exampleOn(t *testing.T, url string) string {
	t.Helper()
	dir := pipelineProject(t, 0.05, 1)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("STRATA_TARGET", "prod")
	return dir
}

// TestCheckExampleOnAFreshDatabase: on the example project, check on a
// database where nothing was built exits 0 and leaves the database as it
// was; a type error planted on a line of a model exits 1, names the
// model's own file, line and column, and lists what depends on it as not
// checked.
func TestCheckExampleOnAFreshDatabase(t *testing.T) {
	url := pgtest.DB(t)
	dir := exampleOn(t, url)
	before := userRelations(t, url)
	out := must(t, 0, dir, "check")
	mustContain(t, out, "Checked 31 models, 8 seeds, ", "ERROR=0 NOT_CHECKED=0", "everything was rolled back",
		"note: hooks are not run by check (4 on-run-start/on-run-end hooks)")
	if after := userRelations(t, url); after != before {
		t.Errorf("check changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	path := filepath.Join(dir, "models", "staging", "stg_orders.sql")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	n := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "o.shipping_cost::numeric(12, 2) as shipping_cost") })
	if n < 0 {
		t.Fatal("stg_orders.sql has changed: the line to break is gone")
	}
	lines[n] = "    o.shipping_cost::numeric(12, 2) + o.order_date as shipping_cost,"
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out = must(t, 1, dir, "check")
	mustContain(t, out, "models/staging/stg_orders.sql:"+itoa(n+1)+":37: operator does not exist: numeric + timestamp without time zone",
		"(at line "+itoa(n+1)+" of target/compiled/models/staging/stg_orders.sql)",
		"models/warehouse/fact_orders.sql: model fact_orders not checked: parent stg_orders failed",
		"models/analytics/customer_metrics.sql: model customer_metrics not checked: stg_orders failed, above parent ",
		"tests not checked: what they read was not checked (--output json lists them)")
	if after := userRelations(t, url); after != before {
		t.Errorf("a failed check changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCheckExampleColumns: after check on the built example project, every
// model's output columns and types are in manifest.json and on its docs
// page, and column: selects exactly the models whose views PostgreSQL
// records reading the column.
func TestCheckExampleColumns(t *testing.T) {
	url := pgtest.DB(t)
	dir := exampleOn(t, url)
	// Without a check there is nothing to select by column: exit 2.
	code, out := strata(t, dir, "ls", "-s", "column:stg_orders.discount_amount")
	if code != 2 || !strings.Contains(out, "run strata check first") {
		t.Fatalf("ls -s column: before any check exited %d, want 2 and 'run strata check first':\n%s", code, out)
	}
	must(t, 0, dir, "build")
	must(t, 0, dir, "check")
	man, err := artifacts.ReadManifest(filepath.Join(dir, "target", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	models := 0
	for id, n := range man.Nodes {
		if n.ResourceType != "model" {
			continue
		}
		models++
		if n.ColumnsCheckedAt == "" || len(n.Columns) == 0 {
			t.Errorf("%s: no checked columns in manifest.json", id)
			continue
		}
		for _, c := range n.Columns {
			if c.Produced != nil && *c.Produced && c.DataType == "" {
				t.Errorf("%s.%s: produced without a type", id, c.Name)
			}
		}
	}
	if models != 31 {
		t.Errorf("manifest.json has %d models, want 31", models)
	}
	fo := man.Nodes["model.shop.fact_orders"]
	if !slices.Contains(fo.ColumnsUsed, artifacts.ColumnRef{Node: "model.shop.stg_orders", Column: "discount_amount"}) {
		t.Errorf("fact_orders does not read stg_orders.discount_amount: %v", fo.ColumnsUsed)
	}
	// The readers of stg_orders.discount_amount are the models whose
	// columns_used name it: fact_orders alone (its new_orders CTE selects
	// every column of stg_orders).
	var readers []string
	for _, n := range man.Nodes {
		if slices.Contains(n.ColumnsUsed, artifacts.ColumnRef{Node: "model.shop.stg_orders", Column: "discount_amount"}) {
			readers = append(readers, n.Name)
		}
	}
	slices.Sort(readers)
	// Read from the SQL: of the three models that ref stg_orders
	// (stg_order_items, fact_order_items, fact_orders), only fact_orders
	// names discount_amount, through the select * of its new_orders CTE.
	if !slices.Equal(readers, []string{"fact_orders"}) {
		t.Errorf("manifest.json's readers of stg_orders.discount_amount are %v, want [fact_orders]", readers)
	}
	out = must(t, 0, dir, "ls", "-s", "column:stg_orders.discount_amount", "--resource-type", "model")
	if got := strings.Fields(out); !slices.Equal(got, readers) || len(got) == 0 {
		t.Errorf("ls -s column:stg_orders.discount_amount = %v, want %v", got, readers)
	}
	// With +, the descendants of the readers too.
	out = must(t, 0, dir, "ls", "-s", "column:stg_orders.discount_amount+", "--resource-type", "model")
	mustContain(t, out, "fact_orders", "customer_metrics", "executive_kpis")
	// A column the model does not produce is a command-line error.
	code, out = strata(t, dir, "ls", "-s", "column:stg_orders.discount_amont")
	if code != 2 || !strings.Contains(out, `stg_orders has no column "discount_amont"`) || !strings.Contains(out, `did you mean "discount_amount"?`) {
		t.Errorf("a column stg_orders does not produce: exit %d\n%s", code, out)
	}

	must(t, 0, dir, "docs", "generate", "--offline")
	page := readSitePage(t, dir, "model.shop.fact_orders")
	mustContain(t, page, "discount_amount", "numeric", "stg_orders")
}

// readSitePage returns the docs site's page of node id.
func readSitePage(t *testing.T, dir, id string) string {
	t.Helper()
	var found string
	_ = filepath.WalkDir(filepath.Join(dir, "target", "docs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), id) {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no page of %s under target/docs", id)
	}
	b, err := os.ReadFile(found)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCheckReadsNoRows: check on a built project reads and writes no row
// of user data: no user table's sequential or index reads move. The same
// measurement sees the reads of a strata test, so it would see check's.
func TestCheckReadsNoRows(t *testing.T) {
	url := pgtest.DB(t)
	files := map[string]string{}
	for k, v := range shopFiles {
		files[k] = v
	}
	files["models/marts/by_customer.sql"] = `{{ config "materialized" "incremental" "unique_key" "customer" }}
select customer, sum(amount) as amount from {{ ref "stg_orders" }}
{{ if is_incremental }}where customer not in (select customer from {{ this }}){{ end }}
group by customer`
	dir := writeProject(t, url, files)
	must(t, 0, dir, "build")
	reads := func() int64 {
		t.Helper()
		// strata's sessions have ended (their stats are flushed when a
		// backend exits); wait for that, then read fresh figures.
		deadline := time.Now().Add(10 * time.Second)
		for queryInt(t, url, "select count(*) from pg_stat_activity where application_name = 'strata' and datname = current_database()") > 0 {
			if time.Now().After(deadline) {
				t.Fatal("strata's sessions did not end")
			}
			time.Sleep(20 * time.Millisecond)
		}
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int64
		if _, err := conn.Exec(context.Background(), "select pg_stat_clear_snapshot()"); err != nil {
			t.Fatal(err)
		}
		// strata's own records (strata_meta) are read, as a build reads
		// them: which models were last built as scd2 dimensions.
		if err := conn.QueryRow(context.Background(), `select coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0)::bigint from pg_stat_user_tables where schemaname <> 'strata_meta'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	queryInt(t, url, "select count(*) from pg_stat_reset()")
	base := reads()
	must(t, 0, dir, "check")
	if got := reads(); got != base {
		t.Errorf("check read %d rows of user tables, want 0", got-base)
	}
	must(t, 0, dir, "test")
	if got := reads(); got == base {
		t.Error("the measurement did not see strata test read its tables: it cannot see check's reads either")
	}
}

// TestCheckRefusesAModelThatWritesData: a data-modifying CTE is refused as
// a view, with the reason, and nothing is deleted.
func TestCheckRefusesAModelThatWritesData(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":    "name: dm\n",
		"seeds/codes.csv": "code\na\nb\n",
		"models/bad.sql":  "with gone as (delete from {{ ref \"codes\" }} returning *)\nselect * from gone",
	})
	must(t, 0, dir, "seed")
	out := must(t, 1, dir, "check")
	mustContain(t, out, "models/bad.sql:", "views must not contain data-modifying statements in WITH",
		"the model's SQL changes data (a data-modifying statement in WITH): check creates each model as a view and never runs it")
	if got := queryInt(t, url, "select count(*) from public.codes"); got != 2 {
		t.Errorf("codes has %d rows after check, want 2", got)
	}
}

// TestCheckHooksAreNotRun: check says once that hooks are not run, and
// does not run them.
func TestCheckHooksAreNotRun(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: hk\non-run-start: ['create table hook_ran (x int)']\n",
		"models/a.sql": "{{ config \"post_hook\" \"create table post_ran (x int)\" }}select 1 as id",
		"models/b.sql": "{{ config \"pre_hook\" \"create table pre_ran (x int)\" }}select 2 as id",
	})
	out := must(t, 0, dir, "check")
	if c := strings.Count(out, "hooks are not run by check"); c != 1 {
		t.Errorf("the note about hooks is printed %d times, want once:\n%s", c, out)
	}
	mustContain(t, out, "note: hooks are not run by check (1 on-run-start/on-run-end hook and the pre_hook/post_hook of 2 selected nodes)")
	if got := queryInt(t, url, "select count(*) from pg_class where relname in ('hook_ran', 'pre_ran', 'post_ran')"); got != 0 {
		t.Errorf("%d hook tables exist after check, want none", got)
	}
}

// TestCheckThatCannotKeepWhatItFoundFails: a check whose target/check.json
// cannot be written (here a folder is in its way) printed a warning and
// exited 0, and strata ls -s column:... then said check had never run. It
// fails (exit 1, as a file that cannot be written does), for check and
// --empty; build --check builds, as the check passed.
func TestCheckThatCannotKeepWhatItFoundFails(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: kf\n",
		"models/a.sql": "select 1 as id",
		"models/b.sql": `select id from {{ ref "a" }}`,
	})
	if err := os.MkdirAll(filepath.Join(dir, "target", "check.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"check"}, 1},
		{[]string{"check", "-o", "json"}, 1},
		{[]string{"run", "--empty"}, 1},
		{[]string{"build", "--check"}, 0},
	} {
		code, out, errOut := strataOut(t, dir, tc.args...)
		if code != tc.code || !strings.Contains(errOut, "strata: writing target/check.json: ") || !strings.Contains(errOut, "what check found is not kept") {
			t.Errorf("strata %s with target/check.json in the way: exit %d, stderr %q; want %d and the reason\n%s", strings.Join(tc.args, " "), code, errOut, tc.code, out)
		}
	}
}

// TestCheckPrivileges: a role that may not create in a schema, or create
// schemas, gets an error naming the privilege check needs.
func TestCheckPrivileges(t *testing.T) {
	url := pgtest.DB(t)
	admin := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	db := queryText(t, url, "select current_database()")
	role := "checker_" + db
	admin("create role " + role + " login; create schema staging; revoke create on database " + db + " from public; revoke create on schema public from public; " +
		"create schema other; grant usage, create on schema other to " + role + "; create table other.owned (id int)")
	t.Cleanup(func() { admin("drop owned by " + role + "; drop role " + role) })
	as := strings.Replace(url, "postgres://postgres@", "postgres://"+role+"@", 1)
	if as == url {
		t.Fatalf("cannot make a URL for another role from %s", url)
	}
	dir := writeProject(t, as, map[string]string{
		"project.yaml":           "name: pv\nmodels:\n  staging: {schema: staging}\n  marts: {schema: marts}\n",
		"models/staging/s.sql":   "select 1 as id",
		"models/marts/m.sql":     "select id from {{ ref \"s\" }}",
		"models/marts/m2.sql":    "select 2 as id",
		"models/marts/m3.sql":    "select 3 as id",
		"models/public_one.sql":  "select 3 as id",
		"models/other/owned.sql": "{{ config \"schema\" \"other\" }}select 4 as id",
	})
	out := must(t, 1, dir, "check")
	mustContain(t, out,
		"models/staging/s.sql: permission denied for schema staging [SQLSTATE 42501]; check needs the CREATE privilege on schema staging to create the model's view there, inside its rolled-back transaction",
		"cannot create schema marts: permission denied for database "+db+" [SQLSTATE 42501]; check creates the schemas it needs inside its rolled-back transaction, which needs the CREATE privilege on database "+db,
		"not checked: schema marts could not be created",
		"models/other/owned.sql: must be owner of table owned [SQLSTATE 42501]; check renames owned aside inside its rolled-back transaction, to stand the new definition in for it, which only its owner may do")
}

// TestCheckUnreachableTarget: a target that cannot be reached is exit 2
// and one line.
func TestCheckUnreachableTarget(t *testing.T) {
	dir := writeProject(t, "", map[string]string{
		"project.yaml": "name: un\ntarget: t\ntargets:\n  t: {type: postgres, url: 'postgres://nobody@127.0.0.1:1/none?connect_timeout=2'}\n",
		"models/a.sql": "select 1 as id",
	})
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"--project-dir", dir, "check"}, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s%s", code, stdout.String(), stderr.String())
	}
	msg := strings.TrimRight(stderr.String(), "\n")
	if stdout.Len() != 0 || strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "strata check: target t: cannot connect") {
		t.Errorf("want one line on stderr starting with 'strata check: target t: cannot connect', got stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

// TestCheckCancelled: a check cancelled while it waits (here on a lock a
// session holds on a model's table) rolls back and leaves nothing.
func TestCheckCancelled(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":       "name: cx\nmodels: {marts: {schema: marts, materialized: table}}\n",
		"models/a.sql":       "select 1 as id",
		"models/marts/b.sql": "select id from {{ ref \"a\" }}",
	})
	must(t, 0, dir, "run", "-s", "a")
	before := userRelations(t, url)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), "lock table public.a in access share mode"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once check waits for the lock.
		for range 200 {
			if queryInt(t, url, "select count(*) from pg_stat_activity where application_name = 'strata' and wait_event_type = 'Lock'") > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	var stdout, stderr bytes.Buffer
	code := Main(ctx, []string{"--project-dir", dir, "--no-color", "check"}, &stdout, &stderr)
	if code != ExitCancelled {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitCancelled, stdout.String(), stderr.String())
	}
	mustContain(t, stderr.String(), "strata check: cancelled; its transaction was rolled back and nothing was left behind")
	_ = tx.Rollback(context.Background())
	if after := userRelations(t, url); after != before {
		t.Errorf("a cancelled check left changes:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestCheckExistingRelationsStay: on a built project, check stands its
// views in for the selected models' relations inside its transaction, and
// everything is as it was afterwards: the same relations (same oids), the
// same rows.
func TestCheckExistingRelationsStay(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, shopFiles)
	must(t, 0, dir, "build")
	before := userRelations(t, url)
	rows := queryInt(t, url, "select count(*) from marts.daily")
	// A changed model: a new column, which its child reads.
	writeFile(t, dir, "models/staging/stg_orders.sql", `select order_id, upper(customer) as customer, amount, amount * 2 as doubled, ordered_on, code from {{ ref "raw_orders" }}`)
	writeFile(t, dir, "models/marts/daily.sql", `select ordered_on, sum(doubled) as revenue, count(*) as orders from {{ ref "stg_orders" }} group by ordered_on`)
	out := must(t, 0, dir, "check", "--output", "json")
	var rep struct {
		Nodes []struct {
			ID      string `json:"unique_id"`
			Status  string `json:"status"`
			As      string `json:"checked_as"`
			Columns []struct{ Name, Type string }
			Used    []struct{ Node, Column string } `json:"columns_used"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--output json is not JSON: %v\n%s", err, out)
	}
	found := false
	for _, n := range rep.Nodes {
		if n.ID == "model.mini.daily" {
			found = true
			if !slices.Contains(n.Used, struct{ Node, Column string }{"model.mini.stg_orders", "doubled"}) {
				t.Errorf("daily reads %v, want stg_orders.doubled among them", n.Used)
			}
		}
		if n.ID == "seed.mini.raw_orders" && n.As != "table as loaded" {
			t.Errorf("the loaded seed is checked as %q, want it used as loaded", n.As)
		}
	}
	if !found {
		t.Fatalf("no daily in %s", out)
	}
	if after := userRelations(t, url); after != before {
		t.Errorf("check changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if got := queryInt(t, url, "select count(*) from marts.daily"); got != rows {
		t.Errorf("marts.daily has %d rows after check, want %d", got, rows)
	}
}

// TestCheckIncrementalBranch: an incremental model whose table exists is
// checked as the next build renders it (is_incremental true), unless
// --full-refresh.
func TestCheckIncrementalBranch(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: ib\n",
		"models/inc.sql": "{{ config \"materialized\" \"incremental\" }}\nselect 1 as id\n{{ if is_incremental }}where 1 > (select max(nosuch) from {{ this }}){{ end }}\n",
	})
	must(t, 0, dir, "check")
	must(t, 0, dir, "run")
	out := must(t, 1, dir, "check")
	mustContain(t, out, `models/inc.sql:3:46: column "nosuch" does not exist`)
	must(t, 0, dir, "check", "--full-refresh")
}

// TestCheckIncrementalLoadRefusals: what the next build of an incremental
// model would refuse before writing a row, from its query's columns and
// its table's, fails check at the config key in the build's words (check
// passed it, and build --check built the rest): a table partitioned
// otherwise than partition_by says, a unique_key column the table lacks,
// on_schema_change: fail with a new column, a type the table keeps that
// PostgreSQL does not convert the query's to (found by a prepared insert);
// a partition_by column without periods on any build. What the build
// takes (a new column appended, a kept type that converts) passes.
func TestCheckIncrementalLoadRefusals(t *testing.T) {
	url := pgtest.DB(t)
	const head = "{{ config \"materialized\" \"incremental\" \"unique_key\" \"id\" }}\n"
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: il\n",
		"models/inc.sql":   head + "select 1::bigint as id, date '2024-01-01' as day, 1 as n\n",
		"models/inc.yml":   "models:\n  - name: inc\n    config:\n      on_schema_change: fail\n      partition_by: {column: day}\n",
		"models/after.sql": "select * from {{ ref \"inc\" }}\n",
	})
	must(t, 0, dir, "run")
	for _, tc := range []struct {
		name, sql, yml, want string
	}{
		{"new column, on_schema_change: fail", head + "select 1::bigint as id, date '2024-01-01' as day, 1 as n, 2 as extra\n", "",
			"models/inc.yml:4:25: on_schema_change: fail: the model's columns changed (new column extra integer); run with --full-refresh or set on_schema_change"},
		{"a kept type that does not convert", head + "select 1::bigint as id, date '2024-01-01' as day, '1'::text as n\n", "on_schema_change: append_new_columns",
			`models/inc.yml:4:25: on_schema_change: append_new_columns keeps the table's column types, and PostgreSQL does not convert the query's to them: n is integer in the table, text in the query (column "n" is of type integer but expression is of type text`},
		{"the key renamed", "{{ config \"materialized\" \"incremental\" \"unique_key\" \"key\" }}\nselect 1::bigint as key, date '2024-01-01' as day, 1 as n\n", "on_schema_change: sync_all_columns",
			`models/inc.sql:1:4: unique_key: public.inc has no column "key" (the model returns it, but the table was built without it)`},
		{"partitioned on another column", head + "select 1::bigint as id, date '2024-01-01' as day, date '2024-01-01' as other\n", "on_schema_change: sync_all_columns\n      partition_by: {column: other}",
			`models/inc.yml:5:21: partition_by: public.inc is partitioned on column "day", but partition_by says column "other"; a load never changes how the table is partitioned: rebuild it with --full-refresh`},
		{"a partition column without periods", head + "select 1::bigint as id, 'x'::text as day, 1 as n\n", "on_schema_change: sync_all_columns",
			`models/inc.yml:5:21: partition_by: column "day" is text, but a table is partitioned by the day, month or year of a date or timestamp column`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yml := "models:\n  - name: inc\n    config:\n      on_schema_change: fail\n      partition_by: {column: day}\n"
			if tc.yml != "" {
				yml = "models:\n  - name: inc\n    config:\n      " + tc.yml + "\n"
				if !strings.Contains(tc.yml, "partition_by") {
					yml += "      partition_by: {column: day}\n"
				}
			}
			writeFiles(t, dir, map[string]string{"models/inc.sql": tc.sql, "models/inc.yml": yml})
			out := must(t, 1, dir, "check")
			mustContain(t, out, tc.want, "OK=0 ERROR=1 NOT_CHECKED=1", "model after not checked: parent inc failed")
			out = must(t, 1, dir, "build", "--check")
			mustContain(t, out, tc.want, "nothing was built")
			if !strings.Contains(tc.want, "without periods") && !strings.Contains(tc.want, "is text") {
				must(t, 0, dir, "check", "--full-refresh") // a rebuild takes it
			}
		})
	}
	// What a load takes passes: a new column appended, a kept type that
	// converts (integer into the bigint key).
	writeFiles(t, dir, map[string]string{
		"models/inc.sql": head + "select 1 as id, date '2024-01-01' as day, 1 as n, 2 as extra\n",
		"models/inc.yml": "models:\n  - name: inc\n    config:\n      on_schema_change: append_new_columns\n      partition_by: {column: day}\n",
	})
	must(t, 0, dir, "check")
	must(t, 0, dir, "build")
}

// TestCheckRefusedModelsTestsNotChecked: a model that PostgreSQL accepts
// and check then refuses as its build would (an scd2 whose unique_key
// changed, an incremental load of a type on_schema_change: fail refuses,
// a contract) had its data tests, and the models after it, counted OK,
// though they were prepared against a model the build would not build:
// they are not checked (parent failed), in the text, the JSON and junit.xml
// (skipped, build --check) alike.
func TestCheckRefusedModelsTestsNotChecked(t *testing.T) {
	url := pgtest.DB(t)
	dim := `{{ config "materialized" "scd2" "unique_key" "%s" "strategy" "check" }}select id, 'v' as name from generate_series(1, 2) id`
	inc := "{{ config \"materialized\" \"incremental\" \"unique_key\" \"id\" \"on_schema_change\" \"fail\" }}\nselect 1::bigint as id, %s as n\n"
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: rt\n",
		"models/dim.sql":   fmt.Sprintf(dim, "id"),
		"models/use.sql":   `select id, name from {{ ref "dim" }}`,
		"models/inc.sql":   fmt.Sprintf(inc, "1"),
		"models/after.sql": `select id, n from {{ ref "inc" }}`,
		"models/dim.yml": "models:\n  - name: dim\n    columns: [{name: id, tests: [not_null]}]\n" +
			"  - name: inc\n    columns: [{name: id, tests: [not_null, unique]}]\n",
	})
	must(t, 0, dir, "build")
	writeFiles(t, dir, map[string]string{"models/dim.sql": fmt.Sprintf(dim, "name"), "models/inc.sql": fmt.Sprintf(inc, "'x'::text")})
	out := must(t, 1, dir, "check")
	mustContain(t, out, "models/dim.sql:1:4: unique_key: public.dim was built with unique_key (id)", "models/inc.sql:1:", "on_schema_change: fail",
		"models/use.sql: model use not checked: parent dim failed", "models/after.sql: model after not checked: parent inc failed",
		"3 tests not checked", "Checked 4 models, 3 tests on target t", "OK=0 ERROR=2 NOT_CHECKED=5 WARN=0")
	var rep struct {
		Summary map[string]int `json:"summary"`
		Nodes   []struct {
			ID      string `json:"unique_id"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(must(t, 1, dir, "check", "-o", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rep.Summary) != "map[error:2 not_checked:5]" {
		t.Errorf("json summary %v, want error:2 not_checked:5", rep.Summary)
	}
	for _, n := range rep.Nodes {
		if strings.HasPrefix(n.ID, "test.") && (n.Status != "not_checked" || !strings.Contains(n.Message, "not checked: parent")) {
			t.Errorf("json: %s is %s (%q), want not_checked: parent ... failed", n.ID, n.Status, n.Message)
		}
	}
	// build --check: the two refusals fail in junit.xml, the tests skipped.
	must(t, 1, dir, "build", "--check")
	b, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var junit artifacts.JUnit
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatal(err)
	}
	if junit.Failures != 2 || junit.Skipped != 3 || junit.Tests != 5 {
		t.Errorf("junit.xml: %d tests, %d failures, %d skipped; want 5, 2, 3:\n%s", junit.Tests, junit.Failures, junit.Skipped, b)
	}
}

// TestCheckSyncAllColumnsDropReaders: under on_schema_change:
// sync_all_columns, the next build drops the columns the query no longer
// returns, with the views on the table dropped and recreated around it;
// a view that reads a dropped column cannot be recreated, and the build
// failed ('refusing to change public.inc: view rep.hand depends on it')
// after check passed. check names each such view and its columns at
// on_schema_change: one no strata model makes, and a view model that is
// not selected (selected, the build redefines it, and check says
// nothing); a view that reads only kept columns, or reads the table
// through another view, is fine.
func TestCheckSyncAllColumnsDropReaders(t *testing.T) {
	url := pgtest.DB(t)
	inc := `{{ config "materialized" "incremental" "unique_key" "id" "on_schema_change" "sync_all_columns" }}select g as id, %s from generate_series(1, 2) g`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: dr\n",
		"models/inc.sql": fmt.Sprintf(inc, "g * 2 as amt, 'x' || g as note"),
		"models/v.sql":   `select id, note from {{ ref "inc" }}`,
	})
	must(t, 0, dir, "build")
	execSQL(t, url, "create schema rep", "create view rep.hand as select id, amt from public.inc",
		"create view rep.over_hand as select id from rep.hand", "create view rep.ids as select id from public.inc")
	writeFiles(t, dir, map[string]string{
		"models/inc.sql": fmt.Sprintf(inc, "'y' || g as note2"),
		"models/v.sql":   `select id, note2 from {{ ref "inc" }}`,
	})
	hand := `models/inc.sql:1:4: on_schema_change: sync_all_columns would drop column amt of public.inc, which view rep.hand reads: the build would fail when it recreates that view after the drop (refusing to change public.inc); rep.hand is no strata model: change or drop it first, or return amt from the model`
	out := must(t, 1, dir, "check", "-s", "inc")
	mustContain(t, out, hand,
		`models/inc.sql:1:4: on_schema_change: sync_all_columns would drop column note of public.inc, which view public.v reads: the build would fail when it recreates that view after the drop (refusing to change public.inc); public.v is model v, which is not selected: select it too (-s 'inc v') so that the build redefines it, or return note from the model`,
		"OK=0 ERROR=1")
	for _, not := range []string{"rep.ids", "rep.over_hand"} {
		if strings.Contains(out, not) {
			t.Errorf("check names %s, which reads no dropped column:\n%s", not, out)
		}
	}
	out = must(t, 1, dir, "check")
	mustContain(t, out, hand, "model v not checked: parent inc failed")
	if strings.Contains(out, "public.v reads") {
		t.Errorf("check names v, which the build redefines:\n%s", out)
	}
	// The build fails where check said.
	mustContain(t, must(t, 1, dir, "build"), "refusing to change public.inc: view rep.hand depends on it and cannot be recreated on the new version")
	execSQL(t, url, "drop view rep.over_hand", "drop view rep.hand")
	must(t, 0, dir, "check")
	must(t, 0, dir, "build")
}

// TestCheckSyncAllColumnsRetypeReaders: under on_schema_change:
// sync_all_columns a retyped column is altered in place, with the views
// on the table dropped and recreated around it; a view whose definition
// does not hold on the new type (amt + 1 on text) cannot be recreated,
// and the build failed ('refusing to change public.inc: view rep.hand
// ...') after check passed. check recreates the views as the build does,
// on an empty table of the new columns, and names the first that fails
// in the build's words, at on_schema_change: a view model not selected
// (selected, the build redefines it and check says nothing), or one no
// strata model makes. A view (or a materialized view) that holds on the
// new type is no error.
func TestCheckSyncAllColumnsRetypeReaders(t *testing.T) {
	url := pgtest.DB(t)
	inc := `{{ config "materialized" "incremental" "unique_key" "id" "on_schema_change" "sync_all_columns" }}select g as id, %s as amt from generate_series(1, 2) g`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: rr\n",
		"models/inc.sql": fmt.Sprintf(inc, "g * 2"),
		"models/v.sql":   `select id, amt * 2 as twice from {{ ref "inc" }}`,
	})
	must(t, 0, dir, "build")
	execSQL(t, url, "create schema rep", "create view rep.hand as select id, amt + 1 as a1 from public.inc",
		"create view rep.plain as select id, amt from public.inc", "create materialized view rep.mat as select id, amt from public.inc")
	writeFiles(t, dir, map[string]string{
		"models/inc.sql": fmt.Sprintf(inc, "'y' || g"),
		"models/v.sql":   `select id, amt || 'z' as twice from {{ ref "inc" }}`,
	})
	out := must(t, 1, dir, "check", "-s", "inc")
	mustContain(t, out, `models/inc.sql:1:4: on_schema_change: sync_all_columns would change the type of column amt (integer to text) of public.inc, and the build would fail when it recreates the views on it after the change: refusing to change public.inc: view public.v depends on it and cannot be recreated on the new version (operator does not exist: text * integer`,
		`public.v is model v, which is not selected: select it too (-s 'inc v') so that the build redefines it, or keep the type of amt in the model`, "OK=0 ERROR=1")
	hand := `models/inc.sql:1:4: on_schema_change: sync_all_columns would change the type of column amt (integer to text) of public.inc, and the build would fail when it recreates the views on it after the change: refusing to change public.inc: view rep.hand depends on it and cannot be recreated on the new version (operator does not exist: text + integer`
	out = must(t, 1, dir, "check")
	mustContain(t, out, hand, "rep.hand is no strata model: change or drop it first, or keep the type of amt in the model", "model v not checked: parent inc failed")
	for _, not := range []string{"public.v depends", "rep.plain", "rep.mat"} {
		if strings.Contains(out, not) {
			t.Errorf("check names %s, which the build recreates:\n%s", not, out)
		}
	}
	// The build fails where check said, in the same words.
	mustContain(t, must(t, 1, dir, "build"), strings.TrimPrefix(hand, "models/inc.sql:1:4: on_schema_change: sync_all_columns would change the type of column amt (integer to text) of public.inc, and the build would fail when it recreates the views on it after the change: "))
	execSQL(t, url, "drop view rep.hand")
	must(t, 0, dir, "check")
	must(t, 0, dir, "build")
	if got := queryText(t, url, "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = 'rep.mat'::regclass and attname = 'amt'"); got != "text" {
		t.Errorf("rep.mat's amt after the build: %s, want text (recreated on the new type)", got)
	}
}

// TestCheckTableSwapViewReaders: a table model is built anew and swapped
// in, with the views on the old table recreated on the new one; a view
// by hand that reads a column the new query no longer returns, or whose
// definition does not hold on a column's new type, cannot be, and the
// build failed ('refusing to replace public.tab: view rep.gone ...')
// after check passed. check names each view reading a dropped column,
// else the first view that cannot be recreated on the new types, at the
// model, as the build refuses it; a view that reads only what is kept,
// or holds on the new type, is no error. A view or materialized view
// model is swapped in the same way when a column is dropped or retyped
// (create or replace view cannot), and check passed it.
func TestCheckTableSwapViewReaders(t *testing.T) {
	for _, mat := range []string{"table", "view", "materialized_view"} {
		t.Run(mat, func(t *testing.T) {
			url := pgtest.DB(t)
			model := `{{ config "materialized" "` + mat + `" }}`
			dir := writeProject(t, url, map[string]string{
				"project.yaml":   "name: ts\n",
				"models/tab.sql": model + `select 1 as id, 2 as amt, 3 as gone`,
			})
			must(t, 0, dir, "build")
			execSQL(t, url, "create schema rep", "create view rep.gone as select id, gone from public.tab",
				"create view rep.sum as select id, amt + 1 as a1 from public.tab", "create view rep.ids as select id, amt from public.tab")
			writeFiles(t, dir, map[string]string{"models/tab.sql": model + `select 1 as id, 'two' as amt`})
			out := must(t, 1, dir, "check")
			mustContain(t, out, `models/tab.sql:1:1: the model's query no longer returns column gone of public.tab, which view rep.gone reads: the build would fail when it recreates that view after the swap (refusing to replace public.tab); rep.gone is no strata model: change or drop it first, or return gone from the model`)
			if strings.Contains(out, "rep.ids") || strings.Contains(out, "rep.sum") {
				t.Errorf("check names a view that reads no dropped column:\n%s", out)
			}
			mustContain(t, must(t, 1, dir, "build"), "refusing to replace public.tab: view rep.gone depends on it and cannot be recreated on the new version")
			execSQL(t, url, "drop view rep.gone")
			refusal := `refusing to replace public.tab: view rep.sum depends on it and cannot be recreated on the new version (operator does not exist: text + integer`
			out = must(t, 1, dir, "check")
			mustContain(t, out, `models/tab.sql:1:1: the model's query changes the type of column amt (integer to text) of public.tab, and the build would fail when it recreates the views on it after the swap: `+refusal,
				"rep.sum is no strata model: change or drop it first, or keep the type of amt in the model")
			mustContain(t, must(t, 1, dir, "build"), refusal)
			execSQL(t, url, "drop view rep.sum")
			must(t, 0, dir, "check")
			mustContain(t, must(t, 0, dir, "build"), "OK created "+mat+" model public.tab")
			if got := queryText(t, url, "select amt from rep.ids"); got != "two" {
				t.Errorf("rep.ids after the build: %s, want two", got)
			}
		})
	}
}

// TestCheckSCD2SwitchedAway: an scd2 dimension whose model is made
// another materialization fails check as the build refuses it (its
// history would be lost), placed at materialized:, with what reads it
// not checked; build --check --full-refresh-scd2 checks it as the build
// it allows. check passed it, and build --check went on to fail it.
func TestCheckSCD2SwitchedAway(t *testing.T) {
	url := pgtest.DB(t)
	dim := `{{ config "materialized" "%s" "unique_key" "id" "strategy" "check" }}select id, 'v' as name from generate_series(1, 2) id`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: p\n",
		"models/dim.sql": fmt.Sprintf(dim, "scd2"),
		"models/use.sql": `select id, name from {{ ref "dim" }}`,
	})
	must(t, 0, dir, "run")
	for _, mat := range []string{"table", "view", "incremental"} {
		writeFile(t, dir, "models/dim.sql", fmt.Sprintf(dim, mat))
		out := must(t, 1, dir, "check")
		mustContain(t, out, "models/dim.sql:1:4: materialized: public.dim is an scd2 dimension (it was last built with materialized: scd2), and building it with materialized: "+mat+" would lose its history; add --full-refresh-scd2 to do that",
			"model use not checked: parent dim failed")
		out = must(t, 1, dir, "build", "--check")
		mustContain(t, out, "would lose its history", "nothing was built")
	}
	must(t, 0, dir, "build", "--check", "--full-refresh-scd2")
	must(t, 0, dir, "check")
}

// TestCheckTakesBuildsSCD2Flags: check refuses and accepts the flags as
// the build it previews does. check --full-refresh passed an scd2 model
// whose unique_key changed ("unless --full-refresh is given"), though
// build --full-refresh without --full-refresh-scd2 is refused (exit 2)
// before it starts; it is refused as build refuses it, and checked with
// --full-refresh-scd2, which check now takes (for a dimension made another
// materialization too).
func TestCheckTakesBuildsSCD2Flags(t *testing.T) {
	url := pgtest.DB(t)
	dim := `{{ config "materialized" "%s" "unique_key" "%s" "strategy" "check" }}select id, 'v' as name from generate_series(1, 2) id`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: p\n",
		"models/dim.sql": fmt.Sprintf(dim, "scd2", "id"),
		"models/use.sql": `select id, name from {{ ref "dim" }}`,
	})
	must(t, 0, dir, "run")
	writeFile(t, dir, "models/dim.sql", fmt.Sprintf(dim, "scd2", "name"))
	mustContain(t, must(t, 1, dir, "check"), "models/dim.sql:1:", "unique_key")
	for _, cmd := range []string{"check", "build"} {
		out := must(t, 2, dir, cmd, "--full-refresh")
		mustContain(t, out, "strata "+cmd+": --full-refresh would destroy the history of scd2 model dim; add --full-refresh-scd2 to do that, or leave it out with --exclude dim")
	}
	must(t, 0, dir, "check", "--full-refresh", "--exclude", "dim")
	must(t, 0, dir, "check", "--full-refresh", "--full-refresh-scd2")
	writeFile(t, dir, "models/dim.sql", fmt.Sprintf(dim, "table", "id"))
	must(t, 1, dir, "check")
	must(t, 0, dir, "check", "--full-refresh-scd2")
}

// TestCheckSourcesSeedsAndSCD2: an absent source is an empty table of its
// declared columns, or an error when it declares none; an scd2 model has
// strata's columns; a failed node's dependents are not checked.
func TestCheckSourcesSeedsAndSCD2(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: ss\n",
		"seeds/people.csv": "id,email,joined\n1,a@x,2024-01-01\n",
		"models/src.yml": `sources:
  - name: crm
    tables:
      - name: accounts
        columns: [{name: id, data_type: bigint}, {name: plan, data_type: varchar(20)}]
      - name: bare
`,
		"models/acc.sql":        "select id, plan from {{ source \"crm\" \"accounts\" }}",
		"models/bare.sql":       "select * from {{ source \"crm\" \"bare\" }}",
		"models/after_bare.sql": "select * from {{ ref \"bare\" }}",
		"models/dim.sql":        "{{ config \"materialized\" \"scd2\" \"unique_key\" \"id\" \"strategy\" \"check\" \"check_cols\" \"all\" }}select id, email, joined from {{ ref \"people\" }}",
	})
	out := must(t, 1, dir, "check", "--output", "json")
	var rep struct {
		Nodes []struct {
			ID      string `json:"unique_id"`
			Status  string `json:"status"`
			Message string `json:"message"`
			Columns []struct{ Name, Type string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range rep.Nodes {
		var cols []string
		for _, c := range n.Columns {
			cols = append(cols, c.Name+" "+c.Type)
		}
		got[n.ID] = n.Status + " " + strings.Join(cols, ", ") + " " + n.Message
	}
	for id, want := range map[string]string{
		"source.ss.crm.accounts": "ok id bigint, plan character varying(20) ",
		"model.ss.acc":           "ok id bigint, plan character varying(20) ",
		"source.ss.crm.bare":     "error  models/src.yml:6:15: source crm.bare does not exist and declares no columns",
		"model.ss.bare":          "not_checked  not checked: parent crm.bare failed",
		"model.ss.after_bare":    "not_checked  not checked: crm.bare failed, above parent bare",
		"seed.ss.people":         "ok id bigint, email text, joined date ",
		"model.ss.dim":           "ok dim_key text, id bigint, email text, joined date, valid_from timestamp with time zone, valid_to timestamp with time zone, is_current boolean ",
	} {
		if g := got[id]; !strings.HasPrefix(g, want) {
			t.Errorf("%s: %q, want %q", id, g, want)
		}
	}
}

// TestCheckStandInSourceColumn: a model that names a column an absent
// source's YAML does not declare fails on the empty table check stood in,
// and the error says so: the real table may have the column. It said only
// that the column does not exist.
func TestCheckStandInSourceColumn(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: sc\n",
		"models/src.yml": `sources:
  - name: crm
    tables:
      - name: accounts
        columns: [{name: id, data_type: bigint}]
`,
		"models/acc.sql":   "select a.id, a.region from {{ source \"crm\" \"accounts\" }} as a",
		"models/typo.sql":  "select id, nosuch from {{ ref \"acc\" }}",
		"models/other.sql": "select 1 as id",
	})
	out := must(t, 1, dir, "check")
	mustContain(t, out, `models/acc.sql:1:14: column a.region does not exist`,
		"; source crm.accounts (declared at models/src.yml:4:15) is not on the target, so check stood in an empty table of the columns its YAML declares; if the column is one of its table's, declare it there with its data_type")
	// A model that reads no stand-in gets no such hint.
	writeFile(t, dir, "models/acc.sql", "select a.id from {{ source \"crm\" \"accounts\" }} as a")
	out = must(t, 1, dir, "check")
	mustContain(t, out, `column "nosuch" does not exist`)
	if strings.Contains(out, "stood in") {
		t.Errorf("a model that reads no stand-in source is told of one:\n%s", out)
	}
}

// TestCheckSCD2Config: check finds what a build of an scd2 model would
// refuse in its config against its query's columns, placed at the key: a
// check_cols column the query does not return (its view does not name
// it, so PostgreSQL accepts it), an updated_at one (its view names it,
// and PostgreSQL's "column s.x does not exist" named no config).
func TestCheckSCD2Config(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: sc\n",
		"seeds/people.csv": "id,email,city,updated_at\n1,a@x,Oslo,2024-01-01\n",
		"models/chk.sql":   "select id, email from {{ ref \"people\" }}",
		"models/ts.sql":    "select id, email, city from {{ ref \"people\" }}",
		"models/ok.sql":    "select id, email, updated_at from {{ ref \"people\" }}",
		"models/dims.yml": `models:
  - name: chk
    config: {materialized: scd2, unique_key: id, strategy: check, check_cols: [email, city]}
  - name: ts
    config:
      materialized: scd2
      unique_key: id
      updated_at: updated_at
  - name: ok
    config: {materialized: scd2, unique_key: id, updated_at: updated_at, hard_deletes: new_record}
`,
	})
	out := must(t, 1, dir, "check")
	mustContain(t, out,
		`models/dims.yml:3:79: check_cols: "city" is not a column of the model's query (the query has: id, email)`,
		`models/dims.yml:8:19: updated_at: "updated_at" is not a column of the model's query (the query has: id, email, city)`,
		"OK=2 ERROR=2")
	if strings.Contains(out, "s.updated_at") {
		t.Errorf("check names its own view's alias:\n%s", out)
	}
}

// TestCheckYAMLColumns: what YAML declares is held against what a model
// produces: warnings, errors under contract, undeclared columns silenced
// by check: {undeclared_columns: ignore}.
func TestCheckYAMLColumns(t *testing.T) {
	url := pgtest.DB(t)
	files := map[string]string{
		"project.yaml":    "name: yc\n",
		"models/m.sql":    "select 1::int as id, 'x'::text as name, 2.5::numeric(12,2) as amount",
		"models/c.sql":    "{{ config \"contract\" true }}select 1::int as id, 'x'::text as extra, 3 as untyped",
		"models/none.sql": "select 1 as id",
		"models/m.yml": `models:
  - name: m
    columns:
      - name: id
        data_type: int
      - name: amount
        data_type: numeric(10, 2)
      - name: gone
      - name: name
        data_type: nosuchtype
  - name: c
    columns:
      - name: id
        data_type: bigint
      - name: untyped
  - name: none
`,
	}
	dir := writeProject(t, url, files)
	out := must(t, 1, dir, "check")
	mustContain(t, out,
		"models/m.yml:6:15: warning: column amount of model m is numeric(12,2), but its YAML declares data_type numeric(10, 2)",
		"models/m.yml:8:15: warning: model m does not produce column gone, which its YAML declares",
		"models/m.yml:13:15: column id of model c is integer, but its YAML declares data_type bigint (contract: true, so a build would refuse the model)",
		"models/m.yml:9:15: warning: column name of model m: data_type \"nosuchtype\" is not a type PostgreSQL knows: type \"nosuchtype\" does not exist [SQLSTATE 42704]",
		"models/m.yml:11:11: model c produces 1 column that its YAML does not declare: extra (text) (contract: true, so a build would refuse the model)",
		"models/m.yml:15:15: column untyped of model c has no data_type, and contract: true needs the type of every column (a build would refuse the model)")
	if strings.Contains(out, "model none") || strings.Contains(out, "column id of model m") || strings.Contains(out, "model m produces") {
		t.Errorf("a model without declared columns, or a column of the declared type, got a warning:\n%s", out)
	}
	writeFile(t, dir, "project.yaml", "name: yc\ncheck: {undeclared_columns: ignore}\ntarget: t\ntargets:\n  t: {type: postgres, url: '"+url+"'}\n")
	out = must(t, 1, dir, "check")
	if strings.Contains(out, "model m2 produces") || !strings.Contains(out, "model c produces") {
		t.Errorf("undeclared_columns: ignore must silence the warning, not the contract's error:\n%s", out)
	}
}

// TestCheckContractWhereIgnored: contract: true on an scd2 or an
// ephemeral model is ignored by the build (validate warns so), so check
// reports what YAML declares as it does without a contract, not as errors
// saying that a build would refuse the model (which builds it).
func TestCheckContractWhereIgnored(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: ci\n",
		"seeds/people.csv": "id,city\n1,Oslo\n",
		"models/dim.sql":   "select id, city from {{ ref \"people\" }}",
		"models/eph.sql":   "select 1::int as id",
		"models/m.yml": `models:
  - name: dim
    config: {materialized: scd2, unique_key: id, strategy: check, check_cols: [city], contract: true}
    columns:
      - name: id
        data_type: text
      - name: city
  - name: eph
    config: {materialized: ephemeral, contract: true}
    columns:
      - name: id
        data_type: bigint
`,
	})
	out := must(t, 0, dir, "check")
	mustContain(t, out,
		"models/m.yml:3:97: warning: contract is ignored: model dim is materialized as scd2",
		"models/m.yml:5:15: warning: column id of model dim is bigint, but its YAML declares data_type text\n",
		"models/m.yml:11:15: warning: column id of model eph is integer, but its YAML declares data_type bigint\n")
	if strings.Contains(out, "a build would refuse") {
		t.Errorf("check says a build would refuse a model whose contract the build ignores:\n%s", out)
	}
	must(t, 0, dir, "build")
}

// TestCheckTestsAndEphemerals: data tests are prepared and their errors
// placed (a singular test in its file, a generic one at its declaration);
// a selected ephemeral model is checked on its own, and what inlines it is
// not checked when it fails.
func TestCheckTestsAndEphemerals(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: te\n",
		"models/m.sql":   "select 1 as id",
		"models/e.sql":   "{{ config \"materialized\" \"ephemeral\" }}\nselect id,\n  nosuch_e from {{ ref \"m\" }}",
		"models/u.sql":   "select * from {{ ref \"e\" }}",
		"tests/sing.sql": "-- a comment\nselect *\nfrom {{ ref \"m\" }} where nosuch_t = 1",
		"models/m.yml":   "models:\n  - name: m\n    columns:\n      - name: id\n        tests: [not_null]\n      - name: gone\n        tests: [unique]\n",
	})
	out := must(t, 1, dir, "check")
	mustContain(t, out,
		`tests/sing.sql:3:26: column "nosuch_t" does not exist [SQLSTATE 42703] (at line 3 of target/compiled/tests/sing.sql)`,
		`models/m.yml:7:17: column "gone" does not exist`,
		`models/e.sql:3:3: column "nosuch_e" does not exist [SQLSTATE 42703] (at line 3 of target/compiled/models/e.sql)`,
		"models/u.sql: model u not checked: parent e failed",
		"models/m.yml:6:15: warning: model m does not produce column gone, which its YAML declares")
}

// TestCheckSyntaxError: a syntax error makes PostgreSQL run none of the
// statements sent with it; check reports it at the model's line and goes
// on, whether the model went alone or in a round trip with others.
func TestCheckSyntaxError(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: p\n",
		"models/a.sql":  "select 1 as id",
		"models/b.sql":  "select 1 as id",
		"models/c.sql":  "select\n  id id id\nfrom {{ ref \"a\" }}",
		"models/d.sql":  `select id from {{ ref "b" }}`,
		"models/e.sql":  `select id from {{ ref "c" }}`,
		"models/f1.sql": "select distinct distinct 1 as x",
	})
	out := must(t, 1, dir, "check")
	mustContain(t, out, "models/c.sql:2:", "models/f1.sql:1:", "not checked: parent c failed", "ERROR=2")
	if strings.Contains(out, "savepoint") {
		t.Errorf("check failed on its own savepoint:\n%s", out)
	}
}

// TestCheckOfOnlyUnitTests: check proves no unit test (strata test runs
// them), and says so: for a selection of only unit tests, and beside the
// nodes it checked.
func TestCheckOfOnlyUnitTests(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: cu\n",
		"models/m.sql": "select 1 as id",
		"models/u.yml": "unit_tests:\n  - name: m_is_one\n    model: m\n    expect: {rows: [{id: 1}]}\n",
	})
	out := must(t, 0, dir, "check", "-s", "test_type:unit")
	mustContain(t, out, "Nothing to check: the 1 selected unit test is not run by check, which proves SQL against the database: strata test -s test_type:unit runs them.")
	if strings.Contains(out, "Checked 0") {
		t.Errorf("check of only unit tests counted 0 nodes checked:\n%s", out)
	}
	out = must(t, 0, dir, "check")
	mustContain(t, out, "note: the 1 selected unit test is not run by check", "Checked 1 model on target ")
}

// The summary's totals count what was selected; the parents check created
// because they were not built are counted apart, an error among them too.
func TestCheckTotalsCountTheSelection(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: tot\n",
		"seeds/s.csv":   "id\n1\n",
		"models/a.sql":  `select id from {{ ref "s" }}`,
		"models/b.sql":  `select id from {{ ref "a" }}`,
		"models/b.yml":  "models:\n  - name: b\n    columns:\n      - name: id\n        tests: [not_null]\n",
		"models/up.sql": `select id from {{ ref "b" }}`,
	})
	out := must(t, 0, dir, "check", "-s", "b")
	mustContain(t, out, "Checked 1 model, 1 test on target ", "OK=2 ERROR=0 NOT_CHECKED=0 WARN=0; 2 unselected parents, absent from the target, checked too: OK=2 ERROR=0 NOT_CHECKED=0; everything was rolled back")
	// --output json counts the same way: the selection in summary, the
	// parents in parents_summary.
	var rep struct {
		Summary map[string]int `json:"summary"`
		Parents map[string]int `json:"parents_summary"`
	}
	if err := json.Unmarshal([]byte(must(t, 0, dir, "check", "-s", "b", "-o", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rep.Summary) != "map[ok:2]" || fmt.Sprint(rep.Parents) != "map[ok:2]" {
		t.Errorf("json summary %v, parents_summary %v; want ok:2 each", rep.Summary, rep.Parents)
	}
	out = must(t, 0, dir, "check")
	mustContain(t, out, "OK=5 ERROR=0 NOT_CHECKED=0 WARN=0; everything was rolled back")
	writeFile(t, dir, "models/a.sql", `select nosuch from {{ ref "s" }}`)
	out = must(t, 1, dir, "check", "-s", "up")
	mustContain(t, out, "Checked 1 model on target ", "OK=0 ERROR=0 NOT_CHECKED=1 WARN=0; 3 unselected parents, absent from the target, checked too: OK=1 ERROR=1 NOT_CHECKED=1; everything was rolled back")
	// Parents the target has are read, not made: counted in neither.
	writeFile(t, dir, "models/a.sql", `select id from {{ ref "s" }}`)
	must(t, 0, dir, "build", "-s", "s a")
	rep.Summary, rep.Parents = nil, nil
	if err := json.Unmarshal([]byte(must(t, 0, dir, "check", "-s", "b", "-o", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rep.Summary) != "map[ok:2]" || rep.Parents != nil {
		t.Errorf("with the parents built: json summary %v, parents_summary %v; want ok:2 and none", rep.Summary, rep.Parents)
	}
	text := must(t, 0, dir, "check", "-s", "b")
	if strings.Contains(text, "unselected parent") {
		t.Errorf("with the parents built, the text counts parents:\n%s", text)
	}
}

// TestCheckSuggestsTheColumnProduced: a column declared in YAML under a
// misspelt name was 'model s does not produce column revenu, which its
// YAML declares', and the column produced, 'revenue', was listed apart as
// undeclared; the first says which it probably is.
func TestCheckSuggestsTheColumnProduced(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: sp\n",
		"models/s.sql": "select 1 as id, 2.5 as revenue",
		"models/s.yml": "models:\n  - name: s\n    columns:\n      - name: id\n      - name: revenu\n",
	})
	out := must(t, 0, dir, "check")
	mustContain(t, out, `models/s.yml:5:15: warning: model s does not produce column revenu, which its YAML declares (did you mean "revenue"?)`)
}

// TestCheckViewModelChainBreaks: a table model whose new query drops (or
// retypes) a column that a view model reads with select *, and a view by
// hand on that view model that reads the column. The build of the table
// swaps it in and recreates the views on it, the view model with its new
// SQL (without the column) and the view by hand after it, which fails:
// the build refuses the table ('refusing to replace public.par: view
// rep.h2 ...') and skips the view model. check and plan named the view
// under the view model ('refusing to replace public.chv'), which the
// build never gets to, and passed the table. check now fails the table
// with the build's refusal, and does not check the view model; plan says
// it under the table; a view by hand that reads only what is kept is no
// error.
func TestCheckViewModelChainBreaks(t *testing.T) {
	cases := []struct {
		name, par, hand string
		refusal         string // "" when the build passes
	}{
		{"dropped", "select 1 as id", "select id, gone from public.chv",
			`models/par.sql:1:1: the model's query no longer returns column gone of public.par, and the build would fail when it recreates the views on it after the swap: refusing to replace public.par: view rep.h2 depends on it and cannot be recreated on the new version (column chv.gone does not exist`},
		{"retyped", "select 1 as id, 'two' as gone", "select id, gone + 1 as g1 from public.chv",
			`models/par.sql:1:1: the model's query changes the type of column gone (integer to text) of public.par, and the build would fail when it recreates the views on it after the swap: refusing to replace public.par: view rep.h2 depends on it and cannot be recreated on the new version (operator does not exist: text + integer`},
		{"kept", "select 1 as id", "select id from public.chv", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := pgtest.DB(t)
			table := `{{ config "materialized" "table" }}`
			dir := writeProject(t, url, map[string]string{
				"project.yaml":   "name: vc\n",
				"models/par.sql": table + "select 1 as id, 2 as gone",
				"models/chv.sql": `{{ config "materialized" "view" }}select * from {{ ref "par" }}`,
			})
			must(t, 0, dir, "build")
			execSQL(t, url, "create schema rep", "create view rep.h2 as "+c.hand)
			writeFiles(t, dir, map[string]string{"models/par.sql": table + c.par})
			if c.refusal == "" {
				must(t, 0, dir, "check")
				if out := must(t, 0, dir, "plan"); strings.Contains(out, "build refuses") {
					t.Errorf("plan says a refusal:\n%s", out)
				}
				must(t, 0, dir, "build")
				return
			}
			out := must(t, 1, dir, "check")
			mustContain(t, out, c.refusal, "rep.h2 is no strata model: change or drop it first", "models/chv.sql: model chv not checked: parent par failed")
			plan := must(t, 0, dir, "plan")
			mustContain(t, plan, "build refuses: "+strings.TrimPrefix(c.refusal, "models/par.sql:1:1: "))
			for what, text := range map[string]string{"check": out, "plan": plan} {
				if strings.Contains(text, "refusing to replace public.chv") {
					t.Errorf("%s names the refusal under the view model, which the build skips:\n%s", what, text)
				}
			}
			mustContain(t, must(t, 1, dir, "build"), "refusing to replace public.par: view rep.h2 depends on it and cannot be recreated on the new version")
			execSQL(t, url, "drop view rep.h2")
			must(t, 0, dir, "check")
			must(t, 0, dir, "build")
		})
	}
}

// TestCheckSelectedViewModelReadingADroppedColumn: a table model drops a
// column that a selected view model's SQL reads by name. The build's
// swap of the table recreates the view model with that SQL, which fails,
// and refuses the table. check said so, but told to select the view
// model ('public.chv is model chv, which is not selected: select it too'),
// which was selected: its own check had failed, so it was not set aside.
func TestCheckSelectedViewModelReadingADroppedColumn(t *testing.T) {
	url := pgtest.DB(t)
	table := `{{ config "materialized" "table" }}`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: vc\n",
		"models/par.sql": table + "select 1 as id, 2 as gone",
		"models/chv.sql": `{{ config "materialized" "view" }}select id, gone from {{ ref "par" }}`,
	})
	must(t, 0, dir, "build")
	writeFiles(t, dir, map[string]string{"models/par.sql": table + "select 1 as id"})
	out := must(t, 1, dir, "check")
	mustContain(t, out, "models/par.sql:1:1: the model's query no longer returns column gone of public.par, which view public.chv reads",
		"public.chv is model chv, which the build redefines with its SQL, and that SQL fails on the new version too (its own error says why): change it, or return gone from the model")
	if strings.Contains(out, "not selected") {
		t.Errorf("check tells to select a model that is selected:\n%s", out)
	}
	mustContain(t, must(t, 1, dir, "build"), "refusing to replace public.par: view public.chv depends on it")
}

// TestCheckModelsSharingTheirFirstBytes: two built models whose names fit
// PostgreSQL's 63 bytes but share their first 55 are checked side by side
// in check's one transaction, each under scratch names of its own: cut to
// fit, both were set aside under one name, and check (and build --check)
// failed on a project that builds ('relation "aaa...__strata_checked"
// already exists').
func TestCheckModelsSharingTheirFirstBytes(t *testing.T) {
	url := pgtest.DB(t)
	prefix := strings.Repeat("a", 55)
	files := map[string]string{"project.yaml": "name: long\n"}
	for _, mat := range []string{"table", "view", "materialized_view", "incremental"} {
		for _, end := range []string{"_monthly", "_weekly_"} {
			name := prefix[:55-len(mat)] + mat + end
			files["models/"+name+".sql"] = `{{ config "materialized" "` + mat + `" }}select 1 as id`
		}
	}
	dir := writeProject(t, url, files)
	must(t, 0, dir, "check")
	mustContain(t, must(t, 0, dir, "build"), "PASS=8 ")
	mustContain(t, must(t, 0, dir, "check"), "OK=8 ERROR=0")
	mustContain(t, must(t, 0, dir, "build", "--check"), "PASS=8 ")
}
