package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"strata/engine/internal/pgtest"
	"strata/engine/plan"
)

// citusFiles is a small project that places every kind of model and seed
// on a Citus cluster.
var citusFiles = map[string]string{
	"project.yaml": `name: cz
models:
  marts: {schema: marts}
seeds:
  schema: raw
on-run-start:
  - "do $$ begin if not exists (select from pg_roles where rolname = 'cz_reader') then create role cz_reader; end if; end $$"
`,
	"seeds/raw_events.csv":  "event_id,customer_id,day,amount\n1,10,2024-01-05,5.00\n2,11,2024-01-20,7.50\n3,10,2024-02-02,1.25\n4,12,2024-02-10,3.00\n",
	"seeds/raw_regions.csv": "region_id,name\n1,north\n2,south\n",
	"seeds/seeds.yml": `seeds:
  - name: raw_events
    config: {distributed_by: customer_id, column_types: {day: date}}
  - name: raw_regions
    config: {reference: true}
`,
	"models/marts/customers_t.sql": `{{ config "materialized" "table" "distributed_by" "customer_id" "colocate_with" "raw_events" }}
select customer_id, count(*) as events, sum(amount) as total from {{ ref "raw_events" }} group by 1`,
	"models/marts/regions_t.sql":   `{{ config "materialized" "table" "reference" true }}select * from {{ ref "raw_regions" }}`,
	"models/marts/events_p.sql":    `select * from {{ ref "raw_events" }}`,
	"models/marts/events_inc.sql":  `select e.*, (select count(*) from {{ ref "raw_events" }}) as batch_size from {{ ref "raw_events" }} as e`,
	"models/marts/events_di.sql":   `select e.*, (select count(*) from {{ ref "raw_events" }}) as batch_size from {{ ref "raw_events" }} as e`,
	"models/marts/events_app.sql":  `select * from {{ ref "raw_events" }}{{ if is_incremental }} where event_id > (select coalesce(max(event_id), 0) from {{ this }}){{ end }}`,
	"models/marts/regions_inc.sql": `select * from {{ ref "raw_regions" }}`,
	"models/marts/dim_region.sql":  `select region_id, name from {{ ref "raw_regions" }}`,
	"models/marts/dim_cust.sql":    `select customer_id, max(day) as last_day from {{ ref "raw_events" }} group by 1`,
	"models/marts/v_totals.sql":    `{{ config "materialized" "view" }}select c.customer_id, c.total, r.name from {{ ref "customers_t" }} as c cross join {{ ref "regions_t" }} as r`,
	"models/marts/mv_days.sql":     `{{ config "materialized" "materialized_view" }}select day, count(*) as events from {{ ref "events_p" }} group by 1`,
	"models/marts/marts.yml": `models:
  - name: customers_t
    config: {grants: {select: [cz_reader]}, indexes: [{columns: [customer_id, total]}]}
  - name: events_p
    config: {materialized: table, partition_by: {column: day}, distributed_by: customer_id, colocate_with: customers_t}
  - name: events_inc
    config: {materialized: incremental, incremental_strategy: merge, unique_key: [event_id, customer_id], partition_by: {column: day}, distributed_by: customer_id}
  - name: events_di
    config: {materialized: incremental, incremental_strategy: delete+insert, unique_key: [event_id, customer_id], distributed_by: customer_id, shard_count: 6}
  - name: events_app
    config: {materialized: incremental, incremental_strategy: append, distributed_by: customer_id}
  - name: regions_inc
    config: {materialized: incremental, unique_key: region_id, reference: true}
  - name: dim_region
    config: {materialized: scd2, unique_key: region_id, strategy: check, check_cols: [name], reference: true}
  - name: dim_cust
    config: {materialized: scd2, unique_key: customer_id, strategy: check, check_cols: all, distributed_by: customer_id}
    columns:
      - {name: customer_id, tests: [not_null, {unique: {where: is_current}}]}
`,
}

// placement is, per table of the database at url, how Citus places it:
// hash:<column>, reference, or absent for a table on the coordinator.
func placement(t *testing.T, url string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range queryRows(t, url, `select p.logicalrelid::text,
			case when p.partmethod = 'h' then 'hash:' || column_to_column_name(p.logicalrelid, p.partkey) when p.repmodel = 't' then 'reference' else 'other' end
		from pg_dist_partition p where not exists (select from pg_inherits i where i.inhrelid = p.logicalrelid)`) {
		out[r[0]] = r[1]
	}
	return out
}

// TestCitusMaterializations builds every kind of model and seed on a Citus
// cluster, twice, with new and changed rows in between: each lands where
// its config says, loads keep their strategies' results, scd2 keeps history,
// a view made by hand on a rebuilt distributed table survives with its
// grant, and the table's own grant and index are there.
func TestCitusMaterializations(t *testing.T) {
	url := pgtest.CitusDB(t)
	dir := writeProject(t, url, citusFiles)
	out := must(t, 0, dir, "build")
	mustContain(t, out, "warning: reference: true on an incremental model")

	want := map[string]string{
		"raw.raw_events": "hash:customer_id", "raw.raw_regions": "reference",
		"marts.customers_t": "hash:customer_id", "marts.regions_t": "reference", "marts.events_p": "hash:customer_id",
		"marts.events_inc": "hash:customer_id", "marts.events_di": "hash:customer_id", "marts.events_app": "hash:customer_id",
		"marts.regions_inc": "reference", "marts.dim_region": "reference", "marts.dim_cust": "hash:customer_id",
	}
	check := func(when string) {
		t.Helper()
		got := placement(t, url)
		for rel, w := range want {
			if got[rel] != w {
				t.Errorf("%s: %s is placed %q, want %q", when, rel, got[rel], w)
			}
		}
		for _, rel := range []string{"marts.mv_days", "marts.v_totals"} {
			if p, ok := got[rel]; ok {
				t.Errorf("%s: %s is placed %s, want it on the coordinator", when, rel, p)
			}
		}
		if n := queryInt(t, url, "select count(*) from pg_dist_shard where logicalrelid = 'marts.events_di'::regclass"); n != 6 {
			t.Errorf("%s: events_di has %d shards, want shard_count 6", when, n)
		}
		if a, b := queryInt(t, url, "select colocationid from pg_dist_partition where logicalrelid = 'marts.events_p'::regclass"),
			queryInt(t, url, "select colocationid from pg_dist_partition where logicalrelid = 'raw.raw_events'::regclass"); a != b {
			t.Errorf("%s: events_p (group %d) is not colocated with raw_events (group %d) through customers_t", when, a, b)
		}
	}
	check("first build")
	if n := queryInt(t, url, "select count(*) from pg_dist_partition where logicalrelid::text like 'marts.events_p_p2024%'"); n != 2 {
		t.Errorf("events_p has %d distributed monthly partitions, want 2", n)
	}
	execSQL(t, url, "create view public.top_customers as select customer_id from marts.customers_t where total > 2",
		"grant select on public.top_customers to cz_reader")

	// Day 2: new events appended to the seed (an append of the file), a
	// region renamed (a full reload of the reference seed).
	appendFile(t, dir, "seeds/raw_events.csv", "5,10,2024-03-01,2.00\n6,13,2024-03-04,9.00\n")
	writeFile(t, dir, "seeds/raw_regions.csv", "region_id,name\n1,north\n2,south-east\n")
	out = must(t, 0, dir, "build")
	mustContain(t, out, "APPEND 2")
	check("second build")

	for _, c := range []struct{ sql, want string }{
		{"select count(*)::text from raw.raw_events", "6"},
		{"select string_agg(customer_id || '=' || total, ',' order by customer_id) from marts.customers_t", "10=8.25,11=7.50,12=3.00,13=9.00"},
		// merge updated every row (the batch size changed) and added the new ones
		{"select count(*) || ' ' || min(batch_size) || ' ' || max(batch_size) from marts.events_inc", "6 6 6"},
		{"select count(*) || ' ' || min(batch_size) from marts.events_di", "6 6"},
		{"select count(*)::text from marts.events_app", "6"},
		{"select string_agg(name, ',' order by region_id) from marts.regions_inc", "north,south-east"},
		{"select string_agg(name || ':' || is_current, ',' order by region_id, valid_from) from marts.dim_region", "north:true,south:false,south-east:true"},
		// customer 10 ordered again: a second version; 13 is new
		{"select count(*) || ' ' || count(*) filter (where is_current) from marts.dim_cust", "5 4"},
		{"select string_agg(day || '=' || events, ',' order by day) from marts.mv_days", "2024-01-05=1,2024-01-20=1,2024-02-02=1,2024-02-10=1,2024-03-01=1,2024-03-04=1"},
		{"select count(*)::text from marts.v_totals", "8"},
		{"select string_agg(customer_id::text, ',' order by customer_id) from public.top_customers", "10,11,12,13"},
		{"select has_table_privilege('cz_reader', 'public.top_customers', 'select')::text", "true"},
		{"select has_table_privilege('cz_reader', 'marts.customers_t', 'select')::text", "true"},
		{"select count(*)::text from pg_indexes where schemaname = 'marts' and tablename = 'customers_t'", "1"},
	} {
		if got := queryText(t, url, c.sql); got != c.want {
			t.Errorf("%s = %s, want %s", c.sql, got, c.want)
		}
	}
	// Into a reference table, a merge is an update and an insert: it
	// counts the rows of both, as a merge does.
	if r := runResults(t, dir)["model.cz.regions_inc"]; r.AdapterResp != "MERGE 2" {
		t.Errorf("regions_inc says %q, want MERGE 2 (two regions merged)", r.AdapterResp)
	}
}

func appendFile(t *testing.T, dir, name, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, filepath.FromSlash(name)), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// citusUnitTests are unit tests of citusFiles' models: a distributed
// table, an append into a distributed table given its own rows, and an
// scd2 dimension kept as a reference table.
const citusUnitTests = `unit_tests:
  - name: totals_per_customer
    model: customers_t
    given:
      - input: ref('raw_events')
        rows: [{event_id: 1, customer_id: 10, amount: 1.5}, {event_id: 2, customer_id: 10, amount: 2}]
    expect:
      rows: [{customer_id: 10, events: 2, total: 3.5}]
  - name: only_new_events_appended
    model: events_app
    given:
      - input: ref('raw_events')
        rows: [{event_id: 1, customer_id: 10}, {event_id: 3, customer_id: 11}]
      - input: this
        rows: [{event_id: 1, customer_id: 10}]
    overrides:
      macros: {is_incremental: true}
    expect:
      rows: [{event_id: 3, customer_id: 11}]
  - name: region_names
    model: dim_region
    given:
      - input: ref('raw_regions')
        rows: [{region_id: 1, name: north}]
    expect:
      rows: [{region_id: 1, name: north}]
`

// TestCitusCheckAndUnitTests: on a Citus cluster whose tables are built
// (distributed, reference, partitioned), check proves every model again
// and unit tests type their inputs and run, in build too. Check sends each
// statement alone there: Citus passes the text of DDL on a distributed or
// reference table (renaming it aside) on to its workers, which refuse a
// text of several statements ("cannot insert multiple commands into a
// prepared statement"). Unit tests rename nothing.
func TestCitusCheckAndUnitTests(t *testing.T) {
	url := pgtest.CitusDB(t)
	files := map[string]string{"models/marts/unit.yml": citusUnitTests}
	for k, v := range citusFiles {
		files[k] = v
	}
	dir := writeProject(t, url, files)
	mustContain(t, must(t, 0, dir, "build"), "PASS region_names", "PASS only_new_events_appended")
	before := placement(t, url)
	mustContain(t, must(t, 0, dir, "check"), "ERROR=0", "everything was rolled back")
	mustContain(t, must(t, 0, dir, "test", "-s", "test_type:unit"), "PASS=3 WARN=0 FAIL=0 ERROR=0 SKIP=0")
	mustContain(t, must(t, 0, dir, "build"), "PASS region_names", "PASS totals_per_customer", "PASS only_new_events_appended")
	after := placement(t, url)
	for rel, p := range before {
		if after[rel] != p {
			t.Errorf("%s is placed %q after check and a build, %q before", rel, after[rel], p)
		}
	}
}

// TestCitusMovesToTheCoordinator: a table model or seed whose config no
// longer places it on the cluster moves to the coordinator at its next
// build, as one that gets placement keys moves onto it, with the views on
// it kept. A distributed or reference table's views are Citus's: the
// table's build failed recreating them (Citus refuses view DDL after the
// build read a distributed table in parallel), and the seed, unchanged,
// was skipped and stayed a reference table. An scd2 dimension is refused
// instead, naming the rebuild that moves it.
func TestCitusMovesToTheCoordinator(t *testing.T) {
	url := pgtest.CitusDB(t)
	placed := `seeds:
  - name: raw_events
    config: {distributed_by: customer_id}
  - name: raw_regions
    config: {reference: true}
models:
  - name: totals
    config: {distributed_by: customer_id}
  - name: regions_t
    config: {reference: true}
  - name: dim_r
    config: {materialized: scd2, unique_key: region_id, strategy: check, check_cols: all, reference: true}
`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":                 "name: mv\nmodels:\n  marts: {schema: marts}\nseeds:\n  schema: raw\n",
		"seeds/raw_events.csv":         "event_id,customer_id,amount\n1,10,5.00\n2,11,7.50\n3,10,1.25\n",
		"seeds/raw_regions.csv":        "region_id,name\n1,north\n2,south\n",
		"seeds/seeds.yml":              placed,
		"models/marts/totals.sql":      `{{ config "materialized" "table" }}select customer_id, sum(amount) as total from {{ ref "raw_events" }} group by 1`,
		"models/marts/regions_t.sql":   `{{ config "materialized" "table" }}select r.*, (select count(*) from {{ ref "totals" }}) as customers from {{ ref "raw_regions" }} as r`,
		"models/marts/v_totals.sql":    `{{ config "materialized" "view" }}select * from {{ ref "totals" }}`,
		"models/marts/v_regions_t.sql": `{{ config "materialized" "view" }}select * from {{ ref "regions_t" }}`,
		"models/marts/v_regions.sql":   `{{ config "materialized" "view" }}select * from {{ ref "raw_regions" }}`,
		"models/marts/dim_r.sql":       `select region_id, name from {{ ref "raw_regions" }}`,
	})
	must(t, 0, dir, "build")
	got := placement(t, url)
	for rel, w := range map[string]string{"raw.raw_events": "hash:customer_id", "raw.raw_regions": "reference", "marts.totals": "hash:customer_id", "marts.regions_t": "reference", "marts.dim_r": "reference"} {
		if got[rel] != w {
			t.Fatalf("first build: %s is placed %q, want %q", rel, got[rel], w)
		}
	}

	// An scd2 dimension placed otherwise is refused, as an incremental
	// model is (its history would not move), once, at its config key: it
	// was updated in place and stayed a reference table.
	writeFile(t, dir, "seeds/seeds.yml", `seeds:
  - name: raw_events
    config: {distributed_by: customer_id}
models:
  - name: dim_r
    config: {materialized: scd2, unique_key: region_id, strategy: check, check_cols: all, distributed_by: region_id}
`)
	out := must(t, 1, dir, "build")
	mustContain(t, out, "\n          seeds/seeds.yml:6:107: marts.dim_r", "marts.dim_r is a reference table, but its config makes it distributed by region_id; a build adds versions and never moves the rows there: rebuild it with --full-refresh --full-refresh-scd2 -s dim_r, which drops its history")
	must(t, 0, dir, "build", "--full-refresh", "--full-refresh-scd2", "-s", "dim_r")
	if p := placement(t, url)["marts.dim_r"]; p != "hash:region_id" {
		t.Errorf("after --full-refresh, dim_r is placed %q, want hash:region_id", p)
	}
	got = placement(t, url)
	for _, rel := range []string{"raw.raw_regions", "marts.totals", "marts.regions_t"} {
		if p, ok := got[rel]; ok {
			t.Errorf("%s is still placed %s, want it on the coordinator", rel, p)
		}
	}
	for sql, want := range map[string]string{
		"select string_agg(customer_id || '=' || total, ',' order by customer_id) from marts.v_totals": "10=6.25,11=7.50",
		"select string_agg(name || '=' || customers, ',' order by region_id) from marts.v_regions_t":   "north=2,south=2",
		"select string_agg(name, ',' order by region_id) from marts.v_regions":                         "north,south",
	} {
		if got := queryText(t, url, sql); got != want {
			t.Errorf("%s = %s, want %s", sql, got, want)
		}
	}
}

// TestCitusEnvironmentColocates: in an environment, a model colocated with
// one the environment does not build shares the shards of production's
// table, which its ref reads too. It looked for the table in the
// environment's schema, found none and failed, saying it was on the
// coordinator: the CI recipe (build --env -s state:modified+) failed on
// Citus for every changed model colocated with an unchanged one.
func TestCitusEnvironmentColocates(t *testing.T) {
	url := pgtest.CitusDB(t)
	dir := writeProject(t, url, citusFiles)
	must(t, 0, dir, "build")
	writeFile(t, dir, "models/marts/customers_t.sql", `{{ config "materialized" "table" "distributed_by" "customer_id" "colocate_with" "raw_events" }}
select customer_id, count(*) as events, sum(amount) as total, max(amount) as largest from {{ ref "raw_events" }} group by 1`)
	mustContain(t, must(t, 0, dir, "build", "--env", "e1", "-s", "customers_t"), "OK created table model marts__e1.customers_t")
	if got := placement(t, url)["marts__e1.customers_t"]; got != "hash:customer_id" {
		t.Errorf("marts__e1.customers_t is placed %q, want hash:customer_id", got)
	}
	if a, b := queryInt(t, url, "select colocationid from pg_dist_partition where logicalrelid = 'marts__e1.customers_t'::regclass"),
		queryInt(t, url, "select colocationid from pg_dist_partition where logicalrelid = 'raw.raw_events'::regclass"); a != b {
		t.Errorf("marts__e1.customers_t (group %d) is not colocated with production's raw.raw_events (group %d)", a, b)
	}
	must(t, 0, dir, "env", "drop", "e1")
}

// TestCitusRowEstimates: on Citus, plan's row estimate of a distributed or
// reference table is its rows, read from its shards on the workers, and an
// incremental load of a few rows into a large distributed table does not
// analyze the whole table. Both read the coordinator's catalog, where the
// table is an empty shell: plan said ~0 rows, and every load, however
// small, analyzed every shard.
func TestCitusRowEstimates(t *testing.T) {
	url := pgtest.CitusDB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: est\nvars: {n: 20000, k: 7}\n",
		"models/dist_t.sql": `{{ config "materialized" "table" "distributed_by" "id" }}
select g as id, g % {{ var "k" }} as k from generate_series(1, {{ var "n" }}) g`,
		"models/ref_t.sql": `{{ config "materialized" "table" "reference" true }}
select g as id, g % {{ var "k" }} as k from generate_series(1, 3000) g`,
		"models/inc.sql": `{{ config "materialized" "incremental" "incremental_strategy" "append" "distributed_by" "id" }}
select g as id from generate_series(1, {{ var "n" }}) g{{ if is_incremental }} where g > (select max(id) from {{ this }}){{ end }}`,
	})
	must(t, 0, dir, "build")
	execSQL(t, url, "analyze public.dist_t", "analyze public.ref_t", "analyze public.inc")

	// Ten new rows in a table of 20,000: the load analyzes nothing.
	must(t, 0, dir, "build", "-s", "inc", "--vars", "{n: 20010}")
	if got := queryInt(t, url, "select count(*) from public.inc"); got != 20010 {
		t.Fatalf("inc has %d rows after the load, want 20010", got)
	}
	run, err := os.ReadFile(filepath.Join(dir, "target", "run", "models", "inc.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(run), `analyze "public"."inc"`) {
		t.Errorf("a load of 10 rows into 20,000 analyzed the whole table:\n%s", run)
	}

	code, out, errOut := strataOut(t, dir, "plan", "--vars", "{k: 5}", "--output", "json")
	if code != 0 {
		t.Fatalf("plan exited %d: %s", code, errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --output json: %v\n%s", err, out)
	}
	want := map[string]float64{"dist_t": 20000, "ref_t": 3000}
	for _, s := range p.Rebuild {
		w, ok := want[s.Name]
		if !ok {
			continue
		}
		delete(want, s.Name)
		if s.Rows < w/2 || s.Rows > w*2 {
			t.Errorf("plan estimates %s at %v rows, want about %v", s.Name, s.Rows, w)
		}
	}
	if len(want) > 0 {
		t.Errorf("plan does not rebuild %v:\n%s", want, out)
	}
}

// TestCitusColocateWithNoShards: a build of a model colocated with a model
// whose table is not distributed says what that table is, at colocate_with
// in its YAML file, and what builds it. A table that did not exist was
// called "a table on the coordinator only" and to be built "with its
// distributed_by", which its config already had.
func TestCitusColocateWithNoShards(t *testing.T) {
	url := pgtest.CitusDB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: co\n",
		"models/a.sql": `select g as id from generate_series(1, 10) g`,
		"models/d.sql": `select g as id, g * 2 as twice from generate_series(1, 10) g`,
		"models/schema.yml": `models:
  - name: a
    config: {materialized: table}
  - name: d
    config: {materialized: table}
`,
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "models/schema.yml", `models:
  - name: a
    config: {materialized: table, distributed_by: id}
  - name: d
    config: {materialized: table, distributed_by: id, colocate_with: a}
`)
	mustContain(t, must(t, 1, dir, "build", "-s", "d"),
		"models/schema.yml:5:70: colocate_with: a (public.a) is a table on the coordinator only, not a distributed table to share shards with; rebuild it first (strata build -s a), which places it as its config says (distributed_by)")
	execSQL(t, url, "drop table public.d", "drop table public.a")
	mustContain(t, must(t, 1, dir, "build", "-s", "d"),
		"models/schema.yml:5:70: colocate_with: a's table public.a does not exist yet, so there are no shards to share; build a first (strata build -s a), or select it with this model")
	must(t, 0, dir, "build")
	if a, d := queryInt(t, url, "select colocationid from pg_dist_partition where logicalrelid = 'public.a'::regclass"),
		queryInt(t, url, "select colocationid from pg_dist_partition where logicalrelid = 'public.d'::regclass"); a != d {
		t.Errorf("d (group %d) is not colocated with a (group %d)", d, a)
	}
}

// TestCitusSCD2ToTheCoordinator: an scd2 dimension whose config no longer
// places it on the cluster, with views on it, is refused by a build
// (its history would stay where it is), and moves to the coordinator with
// --full-refresh --full-refresh-scd2, its views kept; later builds add
// versions there.
func TestCitusSCD2ToTheCoordinator(t *testing.T) {
	url := pgtest.CitusDB(t)
	placed := `models:
  - name: dim_ref
    config: {materialized: scd2, unique_key: region_id, strategy: check, check_cols: all, reference: true}
  - name: dim_dist
    config: {materialized: scd2, unique_key: region_id, strategy: check, check_cols: all, distributed_by: region_id}
`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":              "name: sc\nmodels:\n  marts: {schema: marts}\nseeds:\n  schema: raw\n",
		"seeds/raw_regions.csv":     "region_id,name\n1,north\n2,south\n",
		"models/marts/dims.yml":     placed,
		"models/marts/dim_ref.sql":  `select region_id, name from {{ ref "raw_regions" }}`,
		"models/marts/dim_dist.sql": `select region_id, name from {{ ref "raw_regions" }}`,
		"models/marts/v_ref.sql":    `{{ config "materialized" "view" }}select region_id, name from {{ ref "dim_ref" }} where is_current`,
		"models/marts/v_dist.sql":   `{{ config "materialized" "view" }}select region_id, name from {{ ref "dim_dist" }} where is_current`,
		"models/marts/v_both.sql":   `{{ config "materialized" "view" }}select r.region_id, r.name, d.name as dist_name from {{ ref "v_ref" }} as r join {{ ref "v_dist" }} as d using (region_id)`,
	})
	must(t, 0, dir, "build")
	got := placement(t, url)
	if got["marts.dim_ref"] != "reference" || got["marts.dim_dist"] != "hash:region_id" {
		t.Fatalf("first build: dim_ref is placed %q, dim_dist %q", got["marts.dim_ref"], got["marts.dim_dist"])
	}
	writeFile(t, dir, "seeds/raw_regions.csv", "region_id,name\n1,north\n2,south-east\n")
	must(t, 0, dir, "build")

	writeFile(t, dir, "models/marts/dims.yml", `models:
  - name: dim_ref
    config: {materialized: scd2, unique_key: region_id, strategy: check, check_cols: all}
  - name: dim_dist
    config: {materialized: scd2, unique_key: region_id, strategy: check, check_cols: all}
`)
	out := must(t, 1, dir, "build")
	mustContain(t, out, "marts.dim_ref is a reference table, but its config makes it a table on the coordinator only; a build adds versions and never moves the rows there: rebuild it with --full-refresh --full-refresh-scd2 -s dim_ref, which drops its history",
		"marts.dim_dist is distributed by region_id, but its config makes it a table on the coordinator only; a build adds versions and never moves the rows there: rebuild it with --full-refresh --full-refresh-scd2 -s dim_dist, which drops its history")
	if got := placement(t, url); got["marts.dim_ref"] != "reference" || got["marts.dim_dist"] != "hash:region_id" {
		t.Fatalf("the refused build moved the dimensions: dim_ref is placed %q, dim_dist %q", got["marts.dim_ref"], got["marts.dim_dist"])
	}

	must(t, 0, dir, "build", "--full-refresh", "--full-refresh-scd2", "-s", "dim_ref", "-s", "dim_dist")
	got = placement(t, url)
	for _, rel := range []string{"marts.dim_ref", "marts.dim_dist", "marts.v_ref", "marts.v_dist", "marts.v_both"} {
		if p, ok := got[rel]; ok {
			t.Errorf("%s is still placed %s, want it on the coordinator", rel, p)
		}
	}
	const both = "select string_agg(region_id || '=' || name || '/' || dist_name, ',' order by region_id) from marts.v_both"
	if got := queryText(t, url, both); got != "1=north/north,2=south-east/south-east" {
		t.Errorf("after the move, v_both = %s", got)
	}
	writeFile(t, dir, "seeds/raw_regions.csv", "region_id,name\n1,north-west\n2,south-east\n")
	must(t, 0, dir, "build")
	if got := queryText(t, url, both); got != "1=north-west/north-west,2=south-east/south-east" {
		t.Errorf("a build on the coordinator: v_both = %s", got)
	}
	if got := queryText(t, url, "select count(*) || ' ' || count(*) filter (where is_current) from marts.dim_dist"); got != "3 2" {
		t.Errorf("dim_dist on the coordinator has %s versions (all, current), want 3 2", got)
	}
	for rel, p := range placement(t, url) {
		t.Errorf("%s is placed %s after a build on the coordinator", rel, p)
	}
}

// TestCitusNullDistributionValue: a row without a value in its table's
// distribution column is refused in the config's words, naming the
// column, the seed's line and where distributed_by is set. Citus says
// "the partition column of table <scratch table> cannot be NULL", which
// names neither the column nor a table of the project's.
func TestCitusNullDistributionValue(t *testing.T) {
	url := pgtest.CitusDB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: nd\n",
		"seeds/orders.csv":  "order_id,customer_id\n1,10\n2,\n3,11\n",
		"seeds/seeds.yml":   "seeds:\n  - name: orders\n    config: {distributed_by: customer_id}\n",
		"models/nulls.sql":  `select g as id, nullif(g, 3) as k from generate_series(1, 5) g`,
		"models/models.yml": "models:\n  - name: nulls\n    config: {materialized: table, distributed_by: k}\n",
	})
	out := must(t, 1, dir, "build")
	mustContain(t, out,
		`seeds/orders.csv:3: distributed_by: this row's "customer_id" is empty (NULL); Citus places each row on the shard of its distribution column's value and refuses a row without one: remove such rows from the file, or distribute the seed by a column that always has a value (distributed_by is set at seeds/seeds.yml:3:30)`,
		`distributed_by: the model's query returns a row whose "k" is NULL; Citus places each row on the shard of its distribution column's value and refuses a row without one: filter such rows out, or give them a value (coalesce) (distributed_by is set at models/models.yml:3:51)`)
	if strings.Contains(out, "__strata_new") {
		t.Errorf("the errors name a scratch table:\n%s", out)
	}
}

// TestCitusEnvLsSize: on Citus, env ls's size of an environment counts
// the shards of its distributed tables, on the workers, and of their
// partitions; it read the coordinator's empty shells (0 bytes).
func TestCitusEnvLsSize(t *testing.T) {
	url := pgtest.CitusDB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: sz\n",
		"models/dist.sql": `{{ config "materialized" "table" "distributed_by" "id" }}
select g as id, g % 97 as k from generate_series(1, 20000) g`,
		"models/parted.sql": `{{ config "materialized" "table" "distributed_by" "id" "partition_by" (dict "column" "day") }}
select g as id, date '2024-01-01' + g % 60 as day from generate_series(1, 20000) g`,
	})
	must(t, 0, dir, "build", "--env", "e1", "-s", "dist")
	if got := envBytes(t, url, "sz", "t", "e1"); got < 400_000 {
		t.Errorf("env ls says e1 (dist) takes %d bytes, want its 20,000 rows' (over 400 kB)", got)
	}
	must(t, 0, dir, "env", "drop", "e1")
	must(t, 0, dir, "build", "--env", "e1", "-s", "parted")
	if got := envBytes(t, url, "sz", "t", "e1"); got < 400_000 {
		t.Errorf("env ls says e1 (parted) takes %d bytes, want its 20,000 rows' (over 400 kB)", got)
	}
}

// TestCitusSeedsWithOneThread: a seed on a Citus server reads how its table
// is placed on a connection of its own, not a second one from the pool
// while it holds the first: with as many seeds loading at once as the
// pool has connections for nodes (one, with --threads 1), each waited for
// the others' for ever, and the build hung (TestExampleOnCitus did, now
// and then, with eight seeds and eight threads).
func TestCitusSeedsWithOneThread(t *testing.T) {
	url := pgtest.CitusDB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":         "name: one\nseeds:\n  schema: raw\n",
		"seeds/raw_events.csv": "event_id,amount\n1,5.00\n",
		"seeds/raw_other.csv":  "id\n1\n",
	})
	done := make(chan string, 1)
	go func() {
		code, out := strata(t, dir, "seed", "--threads", "1")
		if code != 0 {
			out = fmt.Sprintf("exit %d: %s", code, out)
		} else {
			out = ""
		}
		done <- out
	}()
	select {
	case out := <-done:
		if out != "" {
			t.Fatal(out)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("strata seed --threads 1 on Citus did not finish in 2 minutes")
	}
}

// TestCitusPlanSaysPlacementNeedsFullRefresh: an incremental model or scd2
// dimension whose config places it otherwise than its table is refused by
// build until it is fully refreshed (a load never moves the rows there);
// plan said nothing of it, so a pull request that moved a fact to another
// distribution column looked like a config change that deploys as it is.
func TestCitusPlanSaysPlacementNeedsFullRefresh(t *testing.T) {
	url := pgtest.CitusDB(t)
	yml := func(inc, dim string) string {
		return "models:\n  - name: inc\n    config: {materialized: incremental, unique_key: [id, customer_id], " + inc + "}\n" +
			"  - name: dim\n    config: {materialized: scd2, unique_key: id, strategy: check, check_cols: all, " + dim + "}\n" +
			"  - name: same\n    config: {materialized: incremental, unique_key: [id, customer_id], distributed_by: customer_id}\n"
	}
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: pl\n",
		"models/inc.sql":    `select g as id, g % 3 as customer_id from generate_series(1, 10) g`,
		"models/same.sql":   `select g as id, g % 3 as customer_id from generate_series(1, 10) g`,
		"models/dim.sql":    `select g as id, 'n' || g as name from generate_series(1, 5) g`,
		"models/models.yml": yml("distributed_by: customer_id", "reference: true"),
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "models/models.yml", yml("distributed_by: id", "distributed_by: id"))
	writeFile(t, dir, "models/same.sql", `select g as id, g % 3 as customer_id from generate_series(1, 12) g`)
	code, out, errOut := strataOut(t, dir, "plan", "--output", "json")
	if code != 0 {
		t.Fatalf("plan exited %d: %s", code, errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --output json: %v\n%s", err, out)
	}
	want := map[string]string{
		"inc":  "needs a full refresh: its table is distributed by customer_id on the Citus cluster, but its config makes it distributed by id, and build refuses to load rows there (strata build --full-refresh -s inc)",
		"dim":  "needs a full refresh, which loses the dimension's history: its table is a reference table on the Citus cluster, but its config makes it distributed by id, and build refuses to add versions there (strata build --full-refresh --full-refresh-scd2 -s dim)",
		"same": "rows loaded before keep the old logic unless it is fully refreshed (strata build --full-refresh -s same)",
	}
	for _, c := range p.Modified {
		if w, ok := want[c.Name]; ok && c.FullRefresh != w {
			t.Errorf("plan says of %s:\n%q\nwant\n%q", c.Name, c.FullRefresh, w)
		}
		delete(want, c.Name)
	}
	if len(want) > 0 {
		t.Errorf("plan lists no change of %v:\n%s", want, out)
	}
	// As plan says: build refuses both, and builds them once refreshed.
	out = must(t, 1, dir, "build")
	mustContain(t, out, "public.inc is distributed by customer_id, but its config makes it distributed by id", "public.dim is a reference table, but its config makes it distributed by id")
	must(t, 0, dir, "build", "--full-refresh", "--full-refresh-scd2", "-s", "inc dim")
}

// TestCitusCheckSaysWhatBuildDoesWithPlacement: an incremental model or
// scd2 dimension whose table sits on the Citus cluster otherwise than its
// config says (distributed by another column, a reference table instead,
// back on the coordinator, another shard_count) is refused by build until
// it is fully refreshed, and a --full-refresh build moves it; check passed
// such a model (OK, exit 0), and only the build found it. check now
// refuses it in the build's words at the build's place, and under
// --full-refresh says in a note that the build rebuilds it there; plan
// says it needs a full refresh. Each is then held to what build does.
func TestCitusCheckSaysWhatBuildDoesWithPlacement(t *testing.T) {
	url := pgtest.CitusDB(t)
	cases := []struct {
		name, from, to string
		// is and want: where the table is and where its config puts it,
		// in the words of build, check and plan.
		is, want string
		// after is the table's placement once rebuilt (placement: "" on
		// the coordinator), in shards when distributed.
		after  string
		shards int64
	}{
		{"column", "distributed_by: customer_id", "distributed_by: id", "distributed by customer_id", "distributed by id", "hash:id", 4},
		{"reference", "distributed_by: customer_id", "reference: true", "distributed by customer_id", "a reference table", "reference", 1},
		{"local", "reference: true", "", "a reference table", "a table on the coordinator only", "", 0},
		{"shards", "distributed_by: customer_id, shard_count: 4", "distributed_by: customer_id, shard_count: 8", "distributed by customer_id in 4 shards", "distributed by customer_id in 8 shards (shard_count)", "hash:customer_id", 8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			schema := "pc_" + tc.name
			yml := func(placed string) string {
				if placed != "" {
					placed = ", " + placed
				}
				return "models:\n  - name: inc\n    config: {schema: " + schema + ", materialized: incremental, unique_key: [id, customer_id]" + placed + "}\n" +
					"  - name: dim\n    config: {schema: " + schema + ", materialized: scd2, unique_key: [id, customer_id], strategy: check, check_cols: all" + placed + "}\n"
			}
			dir := writeProject(t, url, map[string]string{
				"project.yaml":      "name: " + schema + "\n",
				"models/inc.sql":    `select g as id, g % 3 as customer_id from generate_series(1, 10) g`,
				"models/dim.sql":    `select g as id, g % 3 as customer_id, 'n' || g as name from generate_series(1, 5) g`,
				"models/models.yml": yml(tc.from),
			})
			must(t, 0, dir, "build")
			writeFile(t, dir, "models/models.yml", yml(tc.to))
			inc, dim := schema+".inc", schema+".dim"

			// plan: each needs a full refresh.
			code, out, errOut := strataOut(t, dir, "plan", "--output", "json")
			if code != 0 {
				t.Fatalf("plan exited %d: %s", code, errOut)
			}
			var p plan.Plan
			if err := json.Unmarshal([]byte(out), &p); err != nil {
				t.Fatalf("plan --output json: %v\n%s", err, out)
			}
			wantPlan := map[string]string{
				"inc": "needs a full refresh: its table is " + tc.is + " on the Citus cluster, but its config makes it " + tc.want + ", and build refuses to load rows there (strata build --full-refresh -s inc)",
				"dim": "needs a full refresh, which loses the dimension's history: its table is " + tc.is + " on the Citus cluster, but its config makes it " + tc.want + ", and build refuses to add versions there (strata build --full-refresh --full-refresh-scd2 -s dim)",
			}
			for _, c := range p.Modified {
				if w, ok := wantPlan[c.Name]; ok && c.FullRefresh != w {
					t.Errorf("plan says of %s:\n%q\nwant\n%q", c.Name, c.FullRefresh, w)
				}
				delete(wantPlan, c.Name)
			}
			if len(wantPlan) > 0 {
				t.Errorf("plan lists no change of %v:\n%s", wantPlan, out)
			}

			// check refuses both, with the lines build then fails with.
			refusals := []string{
				inc + " is " + tc.is + ", but its config makes it " + tc.want + "; a load adds rows and never moves those there: rebuild it with --full-refresh -s inc",
				dim + " is " + tc.is + ", but its config makes it " + tc.want + "; a build adds versions and never moves the rows there: rebuild it with --full-refresh --full-refresh-scd2 -s dim, which drops its history",
			}
			checked := must(t, 1, dir, "check")
			mustContain(t, checked, "OK=0 ERROR=2")
			built := must(t, 1, dir, "build")
			for _, r := range refusals {
				line := lineWith(t, built, r)
				if line == "" {
					continue
				}
				if tc.to != "" && !strings.HasPrefix(line, "models/models.yml:") {
					t.Errorf("build places its refusal elsewhere than at the config: %q", line)
				}
				if !slices.Contains(strings.Split(checked, "\n"), line) {
					t.Errorf("check does not say what build says:\n%s\ncheck said:\n%s", line, checked)
				}
			}

			// check --full-refresh: a note that build rebuilds them there.
			notes := []string{
				"note: inc (incremental, " + inc + ") is " + tc.is + ", but its config makes it " + tc.want + ": build --full-refresh rebuilds it there (without --full-refresh, build refuses to load rows into it)",
				"note: dim (scd2, " + dim + ") is " + tc.is + ", but its config makes it " + tc.want + ": build --full-refresh --full-refresh-scd2 rebuilds it there, without its history (without them, build refuses to add versions to it)",
			}
			checked = must(t, 0, dir, "check", "--full-refresh", "--full-refresh-scd2")
			mustContain(t, checked, append(notes, "OK=2 ERROR=0")...)
			must(t, 0, dir, "build", "--full-refresh", "--full-refresh-scd2")
			placed := placement(t, url)
			for _, rel := range []string{inc, dim} {
				if placed[rel] != tc.after {
					t.Errorf("after build --full-refresh, %s is placed %q, want %q", rel, placed[rel], tc.after)
				}
				if got := queryInt(t, url, "select count(*) from pg_dist_shard where logicalrelid = '"+rel+"'::regclass"); got != tc.shards {
					t.Errorf("after build --full-refresh, %s has %d shards, want %d", rel, got, tc.shards)
				}
			}

			// Where its config puts them: nothing to say, and build loads.
			checked = must(t, 0, dir, "check", "--full-refresh", "--full-refresh-scd2")
			if strings.Contains(checked, "rebuilds it there") {
				t.Errorf("check --full-refresh notes a move of tables placed as their config says:\n%s", checked)
			}
			mustContain(t, must(t, 0, dir, "check"), "OK=2 ERROR=0")
			mustContain(t, must(t, 0, dir, "build"), "PASS=2")
		})
	}
}

// TestCitusLoadsKeepShardsNoLongerConfigured: an incremental model or
// scd2 dimension whose config no longer sets shard_count asks for no
// shard count, so check passes it, plan says no full refresh, and build
// loads it where it is, in the shards it has. The scd2 update failed
// with Citus's "cannot push down this subquery (dim and dim__strata_src
// are not colocated)": its source was staged in the shards Citus gives a
// new table (citus.shard_count), not beside the dimension; it is now
// staged in the dimension's colocation group, as an incremental load
// stages its rows beside its table.
func TestCitusLoadsKeepShardsNoLongerConfigured(t *testing.T) {
	url := pgtest.CitusDB(t)
	yml := func(placed string) string {
		return "models:\n  - name: inc\n    config: {materialized: incremental, unique_key: [id, customer_id], " + placed + "}\n" +
			"  - name: dim\n    config: {materialized: scd2, unique_key: [id, customer_id], strategy: check, check_cols: all, " + placed + "}\n"
	}
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: ks\n",
		"models/inc.sql":    `select g as id, g % 3 as customer_id, 'a' as v from generate_series(1, 10) g`,
		"models/dim.sql":    `select g as id, g % 3 as customer_id, 'a' as name from generate_series(1, 5) g`,
		"models/models.yml": yml("distributed_by: customer_id, shard_count: 8"),
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "models/models.yml", yml("distributed_by: customer_id"))
	writeFile(t, dir, "models/inc.sql", `select g as id, g % 3 as customer_id, 'b' as v from generate_series(1, 12) g`)
	writeFile(t, dir, "models/dim.sql", `select g as id, g % 3 as customer_id, case when g = 2 then 'b' else 'a' end as name from generate_series(1, 6) g`)

	code, out, errOut := strataOut(t, dir, "plan", "--output", "json")
	if code != 0 {
		t.Fatalf("plan exited %d: %s", code, errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --output json: %v\n%s", err, out)
	}
	for _, c := range p.Modified {
		if strings.HasPrefix(c.FullRefresh, "needs a full refresh") {
			t.Errorf("plan says of %s: %q", c.Name, c.FullRefresh)
		}
	}
	checked := must(t, 0, dir, "check")
	mustContain(t, checked, "OK=2 ERROR=0")
	if strings.Contains(checked, "note:") {
		t.Errorf("check notes something of tables loaded where they are:\n%s", checked)
	}
	built := must(t, 0, dir, "build")
	mustContain(t, built, "PASS=2", "[MERGE 12", "[SCD2 1 new, 1 changed, 0 deleted")
	for _, rel := range []string{"public.inc", "public.dim"} {
		if got := queryInt(t, url, "select count(*) from pg_dist_shard where logicalrelid = '"+rel+"'::regclass"); got != 8 {
			t.Errorf("after the build, %s has %d shards, want the 8 it had", rel, got)
		}
	}
	if got := queryInt(t, url, "select count(*) from public.dim where is_current"); got != 6 {
		t.Errorf("the dimension has %d current versions, want 6", got)
	}
	if got := queryInt(t, url, "select count(*) from public.dim"); got != 7 {
		t.Errorf("the dimension has %d versions, want 7 (6 current, 1 closed)", got)
	}
}

// lineWith is the line of out that contains s, trimmed; "" (and an error)
// when there is none.
func lineWith(t *testing.T, out, s string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l)
		}
	}
	t.Errorf("output lacks %q:\n%s", s, out)
	return ""
}

// TestCitusShardsFollowTheConfig: a load never moves rows to other shards,
// so an incremental model whose table has other shards than its config
// asks for (shard_count changed, or the table colocate_with names rebuilt
// with another count) is refused until it is fully refreshed, as one
// distributed by another column is, and plan says so; an unchanged seed
// is loaded again in its new shards. They kept their old shards without a
// word: colocate_with and shard_count were silently not what they said.
// plan says so of the models colocated with a table whose shard_count
// changes, before it moves (e, modified, under full refresh; b, which is
// not, in a note): it said nothing of them.
func TestCitusShardsFollowTheConfig(t *testing.T) {
	url := pgtest.CitusDB(t)
	yml := func(n int) string {
		return fmt.Sprintf(`models:
  - name: a
    config: {materialized: table, distributed_by: customer_id, shard_count: %[1]d}
  - name: b
    config: {materialized: incremental, unique_key: [id, customer_id], distributed_by: customer_id, colocate_with: a}
  - name: c
    config: {materialized: incremental, unique_key: [id, customer_id], distributed_by: customer_id, shard_count: %[1]d}
  - name: e
    config: {materialized: incremental, unique_key: [id, customer_id], distributed_by: customer_id, colocate_with: a, indexes: [{columns: [id%[2]s]}]}
seeds:
  - name: s
    config: {distributed_by: customer_id, shard_count: %[1]d}
`, n, map[int]string{4: "", 8: ", customer_id"}[n])
	}
	rows := `select g as id, g % 5 as customer_id from generate_series(1, 20) g`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: sh\n",
		"models/a.sql":      rows,
		"models/b.sql":      rows,
		"models/c.sql":      rows,
		"models/e.sql":      rows,
		"seeds/s.csv":       "id,customer_id\n1,1\n2,2\n",
		"models/models.yml": yml(4),
	})
	must(t, 0, dir, "build")
	shardsOf := func(rel string) int64 {
		return queryInt(t, url, "select count(*) from pg_dist_shard where logicalrelid = '"+rel+"'::regclass")
	}
	writeFile(t, dir, "models/models.yml", yml(8))

	code, out, errOut := strataOut(t, dir, "plan", "--output", "json")
	if code != 0 {
		t.Fatalf("plan exited %d: %s", code, errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --output json: %v\n%s", err, out)
	}
	// b and e are colocated with a, in its 4 shards, and stay there when a
	// moves to 8: build refuses their loads after it. plan said nothing of
	// either (e's own change took no full refresh; b is not modified, nor
	// downstream of a), and advised a full refresh of a alone.
	wantPlan := map[string]string{
		"c": "needs a full refresh: its table is distributed by customer_id in 4 shards on the Citus cluster, but its config makes it distributed by customer_id in 8 shards (shard_count), and build refuses to load rows there (strata build --full-refresh -s c)",
		"e": "needs a full refresh with a: it is colocated with a, which moves to 8 shards when it is rebuilt (its shard_count), and build then refuses to load rows into a table no longer colocated with it (strata build --full-refresh -s 'a e')",
	}
	for _, c := range p.Modified {
		if w, ok := wantPlan[c.Name]; ok {
			if c.FullRefresh != w {
				t.Errorf("plan says of %s:\n%q\nwant\n%q", c.Name, c.FullRefresh, w)
			}
			delete(wantPlan, c.Name)
		}
	}
	if len(wantPlan) > 0 {
		t.Errorf("plan lists no change of %v:\n%s", wantPlan, out)
	}
	wantNote := "b (incremental, public.b) needs a full refresh with a: it is colocated with a, which moves to 8 shards when it is rebuilt (its shard_count), and build then refuses to load rows into a table no longer colocated with it (strata build --full-refresh -s 'a b')"
	if !slices.Contains(p.Notes, wantNote) {
		t.Errorf("plan's notes lack\n%q:\n%q", wantNote, p.Notes)
	}

	// check says what the build then says, of b and e too: a, selected,
	// is rebuilt first, in 8 shards, and they are no longer colocated.
	checked := must(t, 1, dir, "check")
	out = must(t, 1, dir, "build")
	for _, rel := range []string{"public.b is", "public.c is", "public.e is"} {
		if line := lineWith(t, out, rel); line != "" && !slices.Contains(strings.Split(checked, "\n"), line) {
			t.Errorf("check does not say what build says:\n%s\ncheck said:\n%s", line, checked)
		}
	}
	mustContain(t, out,
		"models/models.yml:7:114: public.c is distributed by customer_id in 4 shards, but its config makes it distributed by customer_id in 8 shards (shard_count); a load adds rows and never moves those there: rebuild it with --full-refresh -s c",
		"models/models.yml:5:116: public.b is distributed by customer_id in 4 shards, not colocated with a (8 shards), but its config makes it distributed by customer_id, colocated with a (colocate_with); a load adds rows and never moves those there: rebuild it with --full-refresh -s b",
		"public.e is distributed by customer_id in 4 shards, not colocated with a (8 shards)")
	for rel, want := range map[string]int64{"public.a": 8, "public.b": 4, "public.c": 4, "public.e": 4, "public.s": 8} {
		if got := shardsOf(rel); got != want {
			t.Errorf("after the refused build, %s has %d shards, want %d", rel, got, want)
		}
	}
	// b's table stays in a's old shards: plan says a build of it is
	// refused, though its config did not change (it said nothing).
	code, out, errOut = strataOut(t, dir, "plan", "-s", "b", "--output", "json")
	if code != 0 {
		t.Fatalf("plan -s b exited %d: %s", code, errOut)
	}
	p = plan.Plan{}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --output json: %v\n%s", err, out)
	}
	wantNote = "b (incremental, public.b) needs a full refresh: its table is distributed by customer_id in 4 shards, not colocated with a (8 shards) on the Citus cluster, but its config makes it distributed by customer_id, colocated with a (colocate_with), and build refuses to load rows there (strata build --full-refresh -s b)"
	if !slices.Contains(p.Notes, wantNote) {
		t.Errorf("plan -s b's notes lack\n%q:\n%q", wantNote, p.Notes)
	}
	mustContain(t, must(t, 1, dir, "build", "-s", "b"), "public.b is distributed by customer_id in 4 shards, not colocated with a (8 shards)")
	must(t, 0, dir, "build", "--full-refresh", "-s", "b c e")
	for _, rel := range []string{"public.b", "public.c", "public.e"} {
		if got := shardsOf(rel); got != 8 {
			t.Errorf("after --full-refresh, %s has %d shards, want 8", rel, got)
		}
	}
	if a, b := queryInt(t, url, "select colocationid from pg_dist_partition where logicalrelid = 'public.a'::regclass"),
		queryInt(t, url, "select colocationid from pg_dist_partition where logicalrelid = 'public.b'::regclass"); a != b {
		t.Errorf("after --full-refresh, b (group %d) is not colocated with a (group %d)", b, a)
	}
	must(t, 0, dir, "build")
}

// TestCitusCheckDistributionColumn: on Citus, check says that a model's
// query lacks its distributed_by column, at the key, as the build would
// fail; check passed it, and only the build found it. A unit test of the
// model, which tests its SQL wherever its table goes, still runs. A
// seed's file without it is said by its header, before anything runs.
func TestCitusCheckDistributionColumn(t *testing.T) {
	url := pgtest.CitusDB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: dc\n",
		"seeds/s.csv":    "id,customer_id\n1,1\n",
		"models/m.sql":   `select id, customer_id from {{ ref "s" }}`,
		"models/ok.sql":  `select id, customer_id from {{ ref "s" }}`,
		"models/ref.sql": `select id from {{ ref "s" }}`,
		"models/co.sql":  `select id, customer_id::text as customer_id from {{ ref "s" }}`,
		"models/cd.sql":  `select id, date '2024-01-01' + customer_id::int as customer_id from {{ ref "s" }}`,
		"models/models.yml": `models:
  - name: m
    config: {materialized: table, distributed_by: customerid}
  - name: ok
    config: {materialized: table, distributed_by: customer_id}
  - name: ref
    config: {materialized: table, reference: true}
  - name: co
    config: {materialized: table, distributed_by: customer_id, colocate_with: s}
  - name: cd
    config: {materialized: table, distributed_by: customer_id, colocate_with: s}
seeds:
  - name: s
    config: {distributed_by: customer_id}
unit_tests:
  - name: m_passes_rows
    model: m
    given:
      - input: ref('s')
        rows: [{id: 1, customer_id: 2}]
    expect:
      rows: [{id: 1, customer_id: 2}]
`,
	})
	// A colocate_with whose distribution column has another type: check
	// says what the build says, at the key, of the seed check loads
	// (here) and of the one in the database (below, once built).
	// The fix it suggests is a cast only where PostgreSQL has one (text to
	// bigint, not date to bigint).
	colocated := `models/models.yml:9:79: colocate_with: s is distributed by customer_id (bigint), but this model's customer_id is text; Citus colocates only tables whose distribution columns have the same type: cast it in the model ("customer_id"::bigint)`
	noCast := `models/models.yml:11:79: colocate_with: s is distributed by customer_id (bigint), but this model's customer_id is date; Citus colocates only tables whose distribution columns have the same type, and PostgreSQL has no cast from date to bigint: distribute this model by a column of type bigint, or colocate it with a table distributed by one of type date`
	out := must(t, 1, dir, "check")
	mustContain(t, out,
		`models/models.yml:3:51: distributed_by: the model's query returns no column "customerid" (it has: id, customer_id)`,
		colocated, noCast, "OK=3 ERROR=3")
	mustContain(t, must(t, 0, dir, "test", "-s", "test_type:unit"), "PASS m_passes_rows")
	// The build fails where check said.
	mustContain(t, must(t, 1, dir, "build"), `models/models.yml:3:51: distributed_by: the model's query returns no column "customerid" (it has: id, customer_id)`, colocated, noCast)
	mustContain(t, must(t, 1, dir, "check", "-s", "co", "-s", "cd"), colocated, noCast, "OK=0 ERROR=2")
	yml, err := os.ReadFile(filepath.Join(dir, "models", "models.yml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "models/models.yml", strings.Replace(string(yml), "config: {distributed_by: customer_id}\nunit_tests", "config: {distributed_by: cust}\nunit_tests", 1))
	mustContain(t, must(t, 2, dir, "check"), `models/models.yml:14:30: distributed_by: column "cust" is not in the header of seeds/s.csv (expected one of id, customer_id)`)
}

// TestCitusSyncAllColumnsKeepsTheDistributionColumn: an incremental model
// under sync_all_columns whose query retypes its distribution column is
// refused at on_schema_change, naming the column and the fixes, and plan
// says it needs a full refresh; it failed with Citus's "cannot execute
// ALTER TABLE command involving partition column", which on a table
// partitioned by day reads as about the day, and plan said nothing.
func TestCitusSyncAllColumnsKeepsTheDistributionColumn(t *testing.T) {
	url := pgtest.CitusDB(t)
	yml := `models:
  - name: f
    config: {materialized: incremental, unique_key: [id, customer_id], distributed_by: customer_id, partition_by: {column: day}, on_schema_change: sync_all_columns}
`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: sy\n",
		"models/f.sql":      `select g as id, g % 3 as customer_id, date '2024-01-01' + g as day from generate_series(1, 10) g`,
		"models/models.yml": yml,
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "models/f.sql", `select g as id, (g % 3)::bigint as customer_id, date '2024-01-01' + g as day, 1 as extra from generate_series(1, 12) g`)
	mustContain(t, must(t, 0, dir, "plan"), "full refresh: needs a full refresh: on_schema_change is sync_all_columns, but its distribution column customer_id changed, which Citus does not drop or retype, so build refuses the load (strata build --full-refresh -s f)")
	out := must(t, 1, dir, "build")
	mustContain(t, out, `models/models.yml:3:148: on_schema_change: sync_all_columns would change column customer_id from integer to bigint, but it is the distribution column of public.f (distributed_by), which Citus does not retype: cast it back in the model ("customer_id"::integer), or rebuild the table with --full-refresh`)
	if got := queryText(t, url, "select count(*) || ' ' || string_agg(column_name, ',' order by ordinal_position) from information_schema.columns where table_schema = 'public' and table_name = 'f'"); got != "3 id,customer_id,day" {
		t.Errorf("after the refused load, f's columns are %s, want its 3 as before", got)
	}
	writeFile(t, dir, "models/f.sql", `select g as id, g % 3 as customer_id, date '2024-01-01' + g as day, 1 as extra from generate_series(1, 12) g`)
	must(t, 0, dir, "build")
	if got := queryText(t, url, "select count(*) || ' ' || sum(extra) from public.f"); got != "12 12" {
		t.Errorf("after the load, f has %s (rows, sum of extra), want 12 12", got)
	}
}

// TestCitusCheckSaysATableModelMoves: check said nothing of a table
// model whose table sits on the Citus cluster otherwise than its config
// says (a table is rebuilt by every build), though the build moves it,
// and leaves the tables colocated with it that it does not select in its
// old colocation group, no longer colocated with it (an incremental one
// then refused on its next load). check now says so in a note, and the
// build does what the note says.
func TestCitusCheckSaysATableModelMoves(t *testing.T) {
	url := pgtest.CitusDB(t)
	yml := func(n int) string {
		return fmt.Sprintf(`models:
  - name: a
    config: {materialized: table, distributed_by: customer_id, shard_count: %d}
  - name: t2
    config: {materialized: table, distributed_by: customer_id, colocate_with: a}
  - name: i2
    config: {materialized: incremental, unique_key: [id, customer_id], distributed_by: customer_id, colocate_with: a}
`, n)
	}
	rows := `select g as id, g % 5 as customer_id from generate_series(1, 20) g`
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: tm\n", "models/a.sql": rows, "models/t2.sql": rows, "models/i2.sql": rows, "models/models.yml": yml(4),
	})
	must(t, 0, dir, "build")
	if out := must(t, 0, dir, "check", "-s", "a"); strings.Contains(out, "rebuilds it there") {
		t.Errorf("check notes a move of a table placed as its config says:\n%s", out)
	}
	writeFile(t, dir, "models/models.yml", yml(8))
	moves := "note: a (table, public.a) is distributed by customer_id in 4 shards, but its config makes it distributed by customer_id in 8 shards (shard_count): build rebuilds it there, as it rebuilds a table model every time"
	mustContain(t, must(t, 0, dir, "check", "-s", "a"), moves+"; colocated with it and not selected, i2 (incremental, public.i2), t2 (table, public.t2) stay in its old colocation group (4 shards), no longer colocated with it, until built again (select them too; an incremental model or scd2 dimension with --full-refresh)\n", "OK=1 ERROR=0")
	// Selected with it, t2 is rebuilt colocated with it: i2 alone stays.
	mustContain(t, must(t, 0, dir, "check", "-s", "a t2"), moves+"; colocated with it and not selected, i2 (incremental, public.i2) stays in its old colocation group (4 shards), no longer colocated with it, until built again (select it too; ")

	// The build does what the note said.
	group := func(rel string) int64 {
		return queryInt(t, url, "select colocationid from pg_dist_partition where logicalrelid = '"+rel+"'::regclass")
	}
	old := group("public.a")
	must(t, 0, dir, "build", "-s", "a")
	if got := queryInt(t, url, "select count(*) from pg_dist_shard where logicalrelid = 'public.a'::regclass"); got != 8 {
		t.Errorf("a has %d shards after the build, want 8", got)
	}
	for _, rel := range []string{"public.t2", "public.i2"} {
		if g := group(rel); g != old || g == group("public.a") {
			t.Errorf("%s is in colocation group %d after a's build, want a's old group %d (a is in %d)", rel, g, old, group("public.a"))
		}
	}
	// t2, not colocated with a now, is rebuilt colocated with it.
	mustContain(t, must(t, 0, dir, "check", "-s", "t2"), "note: t2 (table, public.t2) is distributed by customer_id in 4 shards, not colocated with a (8 shards), but its config makes it distributed by customer_id, colocated with a (colocate_with): build rebuilds it there, as it rebuilds a table model every time\n")
	must(t, 0, dir, "build", "-s", "t2")
	if group("public.t2") != group("public.a") {
		t.Errorf("t2 is not colocated with a after its build")
	}
	if out := must(t, 0, dir, "check", "-s", "a t2"); strings.Contains(out, "rebuilds it there") {
		t.Errorf("check notes a move of tables placed as their config says:\n%s", out)
	}
}
