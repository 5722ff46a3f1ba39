package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"strata/engine/internal/pgtest"
)

// TestCitusBadDistribution: a distribution column the model's query (or the
// seed's file) does not have, and colocating tables whose distribution
// columns have different types, are errors in the config's words, placed at
// the key, before Citus is asked; the table that was there is left as it
// was.
func TestCitusBadDistribution(t *testing.T) {
	url := pgtest.CitusDB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":        "name: bd\nseeds:\n  schema: raw\n",
		"seeds/raw_sales.csv": "sale_id,customer_id,amount\n1,10,5.00\n2,11,7.50\n",
		"seeds/seeds.yml": `seeds:
  - name: raw_sales
    config: {distributed_by: customer_id}
`,
		"models/sales.sql": `select sale_id, customer_id, amount from {{ ref "raw_sales" }}`,
		"models/models.yml": `models:
  - name: sales
    config:
      materialized: table
      distributed_by: customer_id
      colocate_with: raw_sales
`,
	})
	must(t, 0, dir, "build")
	oid := queryText(t, url, "select 'public.sales'::regclass::oid::text")

	// The model no longer returns its distribution column.
	writeFile(t, dir, "models/sales.sql", `select sale_id, amount from {{ ref "raw_sales" }}`)
	out := must(t, 1, dir, "run")
	mustContain(t, out, `models.yml:5:23: distributed_by: the model's query returns no column "customer_id" (it has: sale_id, amount)`)
	if got := queryText(t, url, "select 'public.sales'::regclass::oid::text || ' ' || (select count(*) from public.sales)"); got != oid+" 2" {
		t.Errorf("after the failed build, sales is %s, want the old table %s with its 2 rows", got, oid)
	}
	if got := placement(t, url)["sales"]; got != "hash:customer_id" {
		t.Errorf("after the failed build, sales is placed %q, want hash:customer_id", got)
	}

	// Its distribution column has another type than the seed's it is
	// colocated with.
	writeFile(t, dir, "models/sales.sql", `select sale_id, customer_id::text as customer_id, amount from {{ ref "raw_sales" }}`)
	out = must(t, 1, dir, "run")
	mustContain(t, out, "models.yml:6:22: colocate_with: raw_sales is distributed by customer_id (bigint), but this model's customer_id is text; Citus colocates only tables whose distribution columns have the same type")
	if got := queryText(t, url, "select 'public.sales'::regclass::oid::text"); got != oid {
		t.Errorf("after the failed build, sales is relation %s, want the old one, %s", got, oid)
	}

	// A seed's file without its distribution column: its header says so
	// before anything runs.
	writeFile(t, dir, "seeds/seeds.yml", "seeds:\n  - name: raw_sales\n    config: {distributed_by: client_id}\n")
	out = must(t, 2, dir, "seed")
	mustContain(t, out, `seeds/seeds.yml:3:30: distributed_by: column "client_id" is not in the header of seeds/raw_sales.csv (expected one of sale_id, customer_id, amount)`)
	if got := queryText(t, url, "select count(*)::text from raw.raw_sales"); got != "2" {
		t.Errorf("after the failed load, raw_sales has %s rows, want its 2", got)
	}
}

// TestCitusWorkerDown: plan with a worker that does not answer waits a few
// seconds for it and names it; a build that needs a worker that is down fails with
// Citus's error naming it, rolls back (the old tables and their dependent
// view stay as they were), and retry completes once the worker is back.
func TestCitusWorkerDown(t *testing.T) {
	url := pgtest.CitusDB(t)
	cluster := pgtest.Citus(t)
	worker := cluster.Workers[len(cluster.Workers)-1]
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: wd\n",
		"models/facts.sql": `{{ config "materialized" "table" "distributed_by" "customer_id" }}select g as sale_id, g % 7 as customer_id, 1 as version from generate_series(1, 50) as g`,
		"models/dim.sql":   `{{ config "materialized" "table" "reference" true }}select g as region_id, 1 as version from generate_series(1, 3) as g`,
		"models/per_customer.sql": `{{ config "materialized" "view" }}
select customer_id, count(*) as sales from {{ ref "facts" }} group by 1`,
	})
	must(t, 0, dir, "build")
	oids := queryText(t, url, "select 'public.facts'::regclass::oid || ' ' || 'public.dim'::regclass::oid")
	execSQL(t, url, "create view public.by_hand as select customer_id, sales from public.per_customer")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := worker.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "models/facts.sql", `{{ config "materialized" "table" "distributed_by" "customer_id" }}select g as sale_id, g % 7 as customer_id, 2 as version from generate_series(1, 60) as g`)
	writeFile(t, dir, "models/dim.sql", `{{ config "materialized" "table" "reference" true }}select g as region_id, 2 as version from generate_series(1, 4) as g`)

	// A worker that does not answer (its server stopped by SIGSTOP: the
	// kernel takes the connection, and no one answers it, as with a
	// machine gone from the network): plan waits a few seconds for it,
	// not Citus's 30 for each of its questions: two from check, two for
	// the row estimates (it took 2 minutes).
	if err := syscall.Kill(st.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	hung := true
	t.Cleanup(func() {
		if hung {
			_ = syscall.Kill(st.PID, syscall.SIGCONT)
		}
	})
	start := time.Now()
	out := must(t, 0, dir, "plan")
	mustContain(t, out, "note: Citus node "+st.SocketDir+":")
	took := time.Since(start)
	t.Logf("plan with a worker that does not answer: %s", took.Round(time.Millisecond))
	if err := syscall.Kill(st.PID, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	hung = false
	if took > 25*time.Second {
		t.Errorf("plan with a worker that does not answer took %s, want a few seconds", took.Round(time.Second))
	}

	if err := worker.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	down := true
	t.Cleanup(func() {
		// Before the harness clears the database, which needs every worker.
		if down {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := worker.Start(ctx); err != nil {
				t.Errorf("starting the worker again: %v", err)
			}
		}
	})

	// plan's estimates leave out the worker's shards: it says so, naming
	// the worker (it said nothing, and gave the estimates of half the rows).
	mustContain(t, must(t, 0, dir, "plan"), "note: Citus node "+st.SocketDir+":")
	out = must(t, 1, dir, "build")
	// Citus names the node it cannot reach: the worker's socket directory.
	mustContain(t, out, "ERROR table model public.facts", "ERROR table model public.dim", st.SocketDir)
	if strings.Contains(out, "panic") {
		t.Errorf("the failed build panicked:\n%s", out)
	}

	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	down = false
	for _, c := range []struct{ sql, want string }{
		{"select 'public.facts'::regclass::oid || ' ' || 'public.dim'::regclass::oid", oids},
		{"select count(*) || ' ' || max(version) from public.facts", "50 1"},
		{"select count(*) || ' ' || max(version) from public.dim", "3 1"},
		{"select sum(sales)::text from public.by_hand", "50"},
	} {
		if got := queryText(t, url, c.sql); got != c.want {
			t.Errorf("after the failed build, %s = %s, want %s (as before it)", c.sql, got, c.want)
		}
	}

	out = must(t, 0, dir, "retry")
	mustContain(t, out, "OK created table model public.facts", "OK created table model public.dim")
	for _, c := range []struct{ sql, want string }{
		{"select count(*) || ' ' || max(version) from public.facts", "60 2"},
		{"select count(*) || ' ' || max(version) from public.dim", "4 2"},
		{"select sum(sales)::text from public.by_hand", "60"},
	} {
		if got := queryText(t, url, c.sql); got != c.want {
			t.Errorf("after retry, %s = %s, want %s", c.sql, got, c.want)
		}
	}
	if got := placement(t, url); got["facts"] != "hash:customer_id" || got["dim"] != "reference" {
		t.Errorf("after retry, facts is placed %q and dim %q, want hash:customer_id and reference", got["facts"], got["dim"])
	}
}

// TestCitusKeysIgnoredWithoutCitus: on a server without Citus, the keys
// that place tables on a cluster are ignored with one warning per run, and
// the tables are built as ordinary ones.
func TestCitusKeysIgnoredWithoutCitus(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: nc\n",
		"seeds/s.csv":    "id,customer_id\n1,10\n",
		"seeds/s.yml":    "seeds:\n  - name: s\n    config: {reference: true}\n",
		"models/a.sql":   `{{ config "materialized" "table" "distributed_by" "customer_id" }}select * from {{ ref "s" }}`,
		"models/b.sql":   `{{ config "materialized" "table" "distributed_by" "customer_id" "colocate_with" "a" }}select * from {{ ref "a" }}`,
		"models/inc.sql": `{{ config "materialized" "incremental" "unique_key" "id" "reference" true }}select * from {{ ref "s" }}`,
	})
	out := must(t, 0, dir, "build")
	want := "warning: 4 models and seeds set where their tables go on Citus (a, b, inc, ...), but target t's database has no Citus extension: those keys are ignored, and the tables are ordinary tables"
	if n := strings.Count(out, "has no Citus extension"); n != 1 {
		t.Errorf("the warning is printed %d times, want once:\n%s", n, out)
	}
	mustContain(t, out, want)
	if got := queryText(t, url, "select string_agg(table_name, ',' order by table_name) from information_schema.tables where table_schema = 'public'"); got != "a,b,inc,s" {
		t.Errorf("tables built: %s, want a,b,inc,s", got)
	}
}

// TestCitusAudit: write-audit-publish on a Citus cluster. The tests read
// the new version of a distributed table, a reference table and a
// distributed incremental load through the coordinator, inside the build's
// transaction; when one fails, nothing is published, and the old tables
// stay as they were, placed as they were.
func TestCitusAudit(t *testing.T) {
	url := pgtest.CitusDB(t)
	files := map[string]string{
		"project.yaml":     "name: au\nvars: {bad: 0}\n",
		"models/facts.sql": `select g as sale_id, g % 7 as customer_id, case when g <= {{ var "bad" }} then null else g end as amount from generate_series(1, 40) as g`,
		"models/dim.sql":   `select g as region_id, case when g <= {{ var "bad" }} then null else 'r' || g end as name from generate_series(1, 3) as g`,
		"models/loads.sql": `select g as sale_id, g % 7 as customer_id, case when g <= {{ var "bad" }} then null else g end as amount from generate_series(1, 40 + {{ var "bad" }}) as g`,
		"models/models.yml": `models:
  - name: facts
    config: {materialized: table, distributed_by: customer_id}
    columns: [{name: amount, tests: [not_null]}]
  - name: dim
    config: {materialized: table, reference: true}
    columns: [{name: name, tests: [not_null]}]
  - name: loads
    config: {materialized: incremental, unique_key: [sale_id, customer_id], distributed_by: customer_id}
    columns: [{name: amount, tests: [not_null]}]
`,
	}
	dir := writeProject(t, url, files)
	must(t, 0, dir, "build")
	before := queryText(t, url, "select 'facts'::regclass::oid || ' ' || 'dim'::regclass::oid || ' ' || (select count(*) from loads)")

	out := must(t, 1, dir, "build", "--vars", "{bad: 2}")
	mustContain(t, out, "AUDIT FAILED", "the previous version of public.facts was kept", "the previous version of public.dim was kept")
	if got := queryText(t, url, "select 'facts'::regclass::oid || ' ' || 'dim'::regclass::oid || ' ' || (select count(*) from loads)"); got != before {
		t.Errorf("after the failed audit: %s, want the old relations and rows: %s", got, before)
	}
	for _, c := range []struct{ sql, want string }{
		{"select count(*)::text from facts where amount is null", "0"},
		{"select count(*)::text from dim where name is null", "0"},
		{"select count(*)::text from loads where amount is null", "0"},
	} {
		if got := queryText(t, url, c.sql); got != c.want {
			t.Errorf("after the failed audit, %s = %s, want %s", c.sql, got, c.want)
		}
	}
	if got := placement(t, url); got["facts"] != "hash:customer_id" || got["dim"] != "reference" || got["loads"] != "hash:customer_id" {
		t.Errorf("after the failed audit, placed: facts %q, dim %q, loads %q", got["facts"], got["dim"], got["loads"])
	}
	if r := runResults(t, dir)["model.au.loads"]; r.AdapterResp != "AUDIT FAILED" {
		t.Errorf("loads says %q, want AUDIT FAILED", r.AdapterResp)
	}
}

// TestCitusWorkerStoppedMidBuild: a worker stopped while a model's
// statement runs on it fails the model with what Citus relays of it
// ('terminating connection due to administrator command', which names no
// worker and reads as the coordinator's); strata names the worker that
// does not answer and what to do, and retry, once it is back, builds what
// failed from the old tables, which the failed build left as they were.
func TestCitusWorkerStoppedMidBuild(t *testing.T) {
	url := pgtest.CitusDB(t)
	cluster := pgtest.Citus(t)
	worker := cluster.Workers[len(cluster.Workers)-1]
	dir := writeProject(t, url, map[string]string{
		"project.yaml":        "name: wm\n",
		"models/base.sql":     `{{ config "materialized" "table" "distributed_by" "id" }}select g as id, 1 as version from generate_series(1, 40) as g`,
		"models/slow.sql":     `{{ config "materialized" "table" "distributed_by" "id" "colocate_with" "base" }}select id, version from {{ ref "base" }}`,
		"models/slow_ref.sql": `{{ config "materialized" "table" "reference" true }}select id, version from {{ ref "base" }}`,
	})
	must(t, 0, dir, "build")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := worker.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Each shard's rows take a second or more to read, on the workers.
	writeFile(t, dir, "models/slow.sql", `{{ config "materialized" "table" "distributed_by" "id" "colocate_with" "base" }}select id, 2 as version from {{ ref "base" }} where pg_sleep(0.3) is not null`)
	writeFile(t, dir, "models/slow_ref.sql", `{{ config "materialized" "table" "reference" true }}select id, 2 as version from {{ ref "base" }} where pg_sleep(0.3) is not null`)
	stopped := make(chan error, 1)
	down := false
	go func() {
		time.Sleep(1500 * time.Millisecond)
		stopped <- worker.Stop(ctx)
	}()
	t.Cleanup(func() {
		if down {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := worker.Start(ctx); err != nil {
				t.Errorf("starting the worker again: %v", err)
			}
		}
	})
	out := must(t, 1, dir, "build", "-s", "slow slow_ref")
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	down = true
	said := "Citus node " + st.SocketDir + ":5432 does not answer: the build needs it; start it again (strata db start, on a local cluster), then run strata retry"
	mustContain(t, out, "ERROR table model public.slow ", "ERROR table model public.slow_ref ")
	if n := strings.Count(out, said); n != 2 {
		t.Errorf("%d of the 2 models that failed say %q:\n%s", n, said, out)
	}
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	down = false
	for _, m := range []string{"slow", "slow_ref"} {
		if got := queryText(t, url, "select count(*) || ' ' || max(version) from public."+m); got != "40 1" {
			t.Errorf("after the failed build, %s holds %s, want 40 1 (as before it)", m, got)
		}
	}
	mustContain(t, must(t, 0, dir, "retry"), "OK created table model public.slow ", "OK created table model public.slow_ref ")
	for _, m := range []string{"slow", "slow_ref"} {
		if got := queryText(t, url, "select count(*) || ' ' || max(version) from public."+m); got != "40 2" {
			t.Errorf("after retry, %s holds %s, want 40 2", m, got)
		}
	}
	if got := placement(t, url); got["slow"] != "hash:id" || got["slow_ref"] != "reference" {
		t.Errorf("after retry, slow is placed %q and slow_ref %q, want hash:id and reference", got["slow"], got["slow_ref"])
	}
}

// TestCitusRolePasswordOnWorkers: Citus connects from the coordinator to
// the workers as the role strata connects as; a worker that asks that role
// for a password, which Citus was not given, failed the build with Citus's
// 'fe_sendauth: no password supplied' of the worker, which says neither
// whose password nor where Citus takes it from. The error says so, and
// the build goes through once the password is in pg_dist_authinfo.
func TestCitusRolePasswordOnWorkers(t *testing.T) {
	url := pgtest.CitusDB(t)
	cluster := pgtest.Citus(t)
	const role = "cz_pw_etl"
	db := queryText(t, url, "select current_database()")
	execSQL(t, url, "create role "+role+" login password 'cz-secret'", "grant create on database "+db+" to "+role, "grant create on schema public to "+role)
	t.Cleanup(func() {
		execSQL(t, url, "delete from pg_dist_authinfo where rolename = '"+role+"'", "drop owned by "+role+" cascade",
			"revoke create on database "+db+" from "+role, "revoke create on schema public from "+role, "drop role "+role)
	})
	// Each worker asks the role for a password (the coordinator does not).
	for _, w := range cluster.Workers {
		hba := filepath.Join(w.Root(), "data", "pg_hba.conf")
		old, err := os.ReadFile(hba)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(hba, append([]byte("local all "+role+" scram-sha-256\n"), old...), 0o600); err != nil {
			t.Fatal(err)
		}
		workerURL := w.URL()
		// Run before the cleanup above: dropping the role's tables needs the workers.
		t.Cleanup(func() {
			if err := os.WriteFile(hba, old, 0o600); err != nil {
				t.Error(err)
			}
			execSQL(t, workerURL, "select pg_reload_conf()")
		})
		execSQL(t, workerURL, "select pg_reload_conf()")
	}
	roleURL := strings.Replace(url, "postgres://postgres@", "postgres://"+role+":cz-secret@", 1)
	if roleURL == url {
		t.Fatalf("cannot make a URL for another role from %s", url)
	}
	dir := writeProject(t, roleURL, map[string]string{
		"project.yaml":     "name: pw\n",
		"models/facts.sql": `{{ config "materialized" "table" "distributed_by" "customer_id" }}select g as sale_id, g % 7 as customer_id from generate_series(1, 30) as g`,
	})
	said := "(Citus connects from the coordinator to its other nodes as the role strata connects as, cz_pw_etl, and that node asks it for a password: give Citus the password, as a superuser on the coordinator: insert into pg_dist_authinfo (nodeid, rolename, authinfo) values (0, 'cz_pw_etl', 'password=...'); or let the role in from the coordinator without one, in the node's pg_hba.conf)"
	// Citus creates strata_meta on the workers as the role.
	out := must(t, 1, dir, "build")
	mustContain(t, out, "creating schema strata_meta", "fe_sendauth: no password supplied", said)
	// A schema made for the role by a superuser (Citus makes it on the
	// workers as the superuser): the model's distributed table fails.
	execSQL(t, url, "create schema strata_meta authorization "+role)
	out = must(t, 1, dir, "build")
	mustContain(t, out, "ERROR table model public.facts", "fe_sendauth: no password supplied", said)
	execSQL(t, url, "insert into pg_dist_authinfo (nodeid, rolename, authinfo) values (0, '"+role+"', 'password=cz-secret')")
	must(t, 0, dir, "build")
	if got := queryText(t, url, "select count(*)::text from public.facts"); got != "30" {
		t.Errorf("facts has %s rows, want 30", got)
	}
	if got := placement(t, url)["facts"]; got != "hash:customer_id" {
		t.Errorf("facts is placed %q, want hash:customer_id", got)
	}
}
