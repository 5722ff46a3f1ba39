package cli

import (
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// tableChecksums is, per table of schema, its row count and a checksum of
// its rows that does not depend on their order: what two builds of one
// table must agree on.
func tableChecksums(t *testing.T, url, schema string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range queryRows(t, url, "select table_name from information_schema.tables where table_schema = '"+schema+"' and table_type = 'BASE TABLE' order by 1") {
		q := `select count(*) || ':' || coalesce(md5(string_agg(h, '' order by h)), '') from (select md5(r::text) as h from "` + schema + `"."` + r[0] + `" as r) as s`
		out[r[0]] = queryText(t, url, q)
	}
	return out
}

// sameTables fails unless the tables of schema are the same, row for row,
// in the databases at a and b (and there are some).
func sameTables(t *testing.T, what, schema, a, b string) {
	t.Helper()
	x, y := tableChecksums(t, a, schema), tableChecksums(t, b, schema)
	if len(x) == 0 {
		t.Fatalf("%s: no tables in %s", what, schema)
	}
	for name, sum := range x {
		if strings.HasPrefix(sum, "0:") {
			t.Errorf("%s: %s.%s is empty; the comparison proves nothing", what, schema, name)
		}
		if y[name] != sum {
			t.Errorf("%s: %s.%s differs: on Citus %s, on one server %s", what, schema, name, sum, y[name])
		}
	}
	if len(x) != len(y) {
		t.Errorf("%s: %d tables in %s on Citus, %d on one server", what, len(x), schema, len(y))
	}
}

// TestExampleOnCitus builds the example pipeline, day 1 and then day 2, on
// a Citus cluster (a coordinator and two workers) and on one server, and
// checks that every analytics table is the same row for row; that the
// cluster places the tables as the config says (facts sharded by customer
// and colocated, dimensions as reference tables); and that a view made by
// hand over a distributed analytics table survives the rebuild.
func TestExampleOnCitus(t *testing.T) {
	citus := pgtest.CitusDB(t)
	single := pgtest.DB(t)
	dir := pipelineProject(t, 0.05, 1)
	build := func(url, what string) {
		t.Helper()
		t.Setenv("DATABASE_URL", url)
		if code, out := strata(t, dir, "--target", "prod", "build"); code != 0 {
			t.Fatalf("%s: build exited %d:\n%s", what, code, out)
		}
	}
	build(citus, "day 1 on Citus")
	build(single, "day 1 on one server")
	sameTables(t, "day 1", "analytics", citus, single)

	// Where each table is: the facts about customers sharded by customer in
	// one colocation group, the dimensions copied to every node, the large
	// analytics table sharded like the facts, the small ones on the
	// coordinator.
	placed := map[string]string{}
	for _, r := range queryRows(t, citus, `select p.logicalrelid::text,
			case when p.partmethod = 'h' then 'hash:' || column_to_column_name(p.logicalrelid, p.partkey) when p.repmodel = 't' then 'reference' else 'other' end,
			p.colocationid::text
		from pg_dist_partition p where not exists (select from pg_inherits i where i.inhrelid = p.logicalrelid)`) {
		placed[r[0]] = r[1] + "@" + r[2]
	}
	group := func(rel string) string { _, g, _ := strings.Cut(placed[rel], "@"); return g }
	for rel, want := range map[string]string{
		"warehouse.fact_orders":             "hash:customer_id",
		"warehouse.fact_order_items":        "hash:customer_id",
		"warehouse.fact_clickstream":        "hash:visitor_id",
		"warehouse.fact_inventory":          "hash:product_id",
		"analytics.customer_metrics":        "hash:customer_id",
		"warehouse.dim_customers":           "reference",
		"warehouse.dim_products":            "reference",
		"warehouse.dim_time":                "reference",
		"warehouse.dim_marketing_campaigns": "reference",
	} {
		if got, _, _ := strings.Cut(placed[rel], "@"); got != want {
			t.Errorf("%s is placed %q, want %q", rel, got, want)
		}
	}
	for _, rel := range []string{"warehouse.fact_orders", "warehouse.fact_clickstream", "analytics.customer_metrics"} {
		if g := group(rel); g == "" || g != group("warehouse.fact_order_items") {
			t.Errorf("%s is in colocation group %q, fact_order_items in %q: want them colocated", rel, g, group("warehouse.fact_order_items"))
		}
	}
	for _, rel := range []string{"analytics.daily_sales", "analytics.executive_kpis", "raw.raw_orders"} {
		if p, ok := placed[rel]; ok {
			t.Errorf("%s is placed %s, want it on the coordinator only", rel, p)
		}
	}
	if n := queryInt(t, citus, "select count(*) from pg_dist_partition p join pg_inherits i on i.inhrelid = p.logicalrelid where p.logicalrelid::text like 'warehouse.fact_orders_p%'"); n == 0 {
		t.Errorf("fact_orders has no distributed monthly partitions")
	}

	// A view made by hand over a sharded analytics table, with a grant.
	execSQL(t, citus,
		"create view public.churn_by_segment as select segment, churn_risk, count(*) as customers from analytics.customer_metrics group by 1, 2",
		"grant select on public.churn_by_segment to analytics_user")

	generate(t, dir, 0.05, 2)
	build(citus, "day 2 on Citus")
	build(single, "day 2 on one server")
	sameTables(t, "day 2", "analytics", citus, single)
	if got, want := queryInt(t, citus, "select sum(customers) from public.churn_by_segment"), queryInt(t, single, "select count(*) from analytics.customer_metrics"); got != want || got == 0 {
		t.Errorf("the hand-made view counts %d customers after the rebuild, want %d", got, want)
	}
	if queryText(t, citus, "select has_table_privilege('analytics_user', 'public.churn_by_segment', 'select')::text") != "true" {
		t.Errorf("the hand-made view lost its grant in the rebuild")
	}
}
