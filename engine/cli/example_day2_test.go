package cli

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// updatedAt maps each key of a snapshot seed to its updated_at.
func updatedAt(t *testing.T, dir, file, key string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range readCSV(t, dir, file, key, nil) {
		out[r[key]] = r["updated_at"]
	}
	return out
}

func changedKeys(before, after map[string]string) []string {
	var out []string
	for k, v := range before {
		if w, ok := after[k]; ok && w != v {
			out = append(out, k)
		}
	}
	return out
}

func fingerprint(t *testing.T, url, sql string) string {
	t.Helper()
	return queryRows(t, url, "select coalesce(md5(string_agg(r::text, '|' order by r::text)), '') from ("+sql+") as r")[0][0]
}

// TestExampleDay2 replays the example's second day incrementally and checks it against
// the history it must keep and against a full refresh of the same data.
func TestExampleDay2(t *testing.T) {
	url := pgtest.DB(t)
	dir := pipelineProject(t, 0.2, 1)
	t.Setenv("DATABASE_URL", url)
	if code, out := strata(t, dir, "--target", "prod", "build"); code != 0 {
		t.Fatalf("day 1 build exited %d:\n%s", code, out)
	}
	custDay1 := updatedAt(t, dir, "raw_customers.csv", "customer_id")
	prodDay1 := updatedAt(t, dir, "raw_products.csv", "product_id")
	const day1 = "select * from warehouse.fact_orders where order_day < date '2025-01-01'"
	ordersBefore := queryInt(t, url, "select count(*) from warehouse.fact_orders")
	itemsBefore := queryInt(t, url, "select count(*) from warehouse.fact_order_items")
	day1Print := fingerprint(t, url, day1)
	day1Items := fingerprint(t, url, "select * from warehouse.fact_order_items where order_day < date '2025-01-01'")

	generate(t, dir, 0.2, 2)
	code, out := strata(t, dir, "--target", "prod", "build")
	if code != 0 {
		t.Fatalf("day 2 build exited %d:\n%s", code, out)
	}

	// Changed customers and products: exactly one closed and one current version.
	for _, c := range []struct {
		dim, key, file string
		before         map[string]string
	}{
		{"dim_customers", "customer_id", "raw_customers.csv", custDay1},
		{"dim_products", "product_id", "raw_products.csv", prodDay1},
	} {
		changed := changedKeys(c.before, updatedAt(t, dir, c.file, c.key))
		if len(changed) == 0 {
			t.Fatalf("day 2 changed no %s; the test proves nothing", c.dim)
		}
		rows := queryRows(t, url, fmt.Sprintf(`select %s::text, count(*), count(*) filter (where is_current), count(*) filter (where not is_current and expiry_date is not null)
			from warehouse.%s where %s in (%s) group by 1`, c.key, c.dim, c.key, strings.Join(changed, ",")))
		if len(rows) != len(changed) {
			t.Errorf("%s: %d of %d changed keys found", c.dim, len(rows), len(changed))
		}
		for _, r := range rows {
			if r[1] != "2" || r[2] != "1" || r[3] != "1" {
				t.Errorf("%s %s: %s versions, %s current, %s closed; want 2, 1, 1", c.dim, r[0], r[1], r[2], r[3])
			}
		}
		if c.dim == "dim_customers" {
			// Day 1's orders of a changed customer keep the version valid when they were placed.
			bad := queryInt(t, url, fmt.Sprintf(`select count(*) from warehouse.fact_orders as f
				join warehouse.dim_customers as d on d.customer_key = f.customer_key
				where f.customer_id in (%s) and f.order_day < date '2025-01-01' and d.is_current`, strings.Join(changed, ",")))
			if bad != 0 {
				t.Errorf("%d day-1 orders of changed customers point at the current version", bad)
			}
		}
	}

	// Incremental facts only added the new rows: day 1's rows are untouched.
	if got := fingerprint(t, url, day1); got != day1Print {
		t.Errorf("day 1's fact_orders rows changed on day 2")
	}
	if got := fingerprint(t, url, "select * from warehouse.fact_order_items where order_day < date '2025-01-01'"); got != day1Items {
		t.Errorf("day 1's fact_order_items rows changed on day 2")
	}
	newOrders := queryInt(t, url, "select count(*) from staging.stg_orders where order_day = date '2025-01-01'")
	if got := queryInt(t, url, "select count(*) from warehouse.fact_orders"); got != ordersBefore+newOrders || newOrders == 0 {
		t.Errorf("fact_orders has %d rows after day 2; want %d + %d new", got, ordersBefore, newOrders)
	}
	newItems := queryInt(t, url, "select count(*) from staging.stg_order_items i join staging.stg_orders o using (order_id) where o.order_day = date '2025-01-01'")
	if got := queryInt(t, url, "select count(*) from warehouse.fact_order_items"); got != itemsBefore+newItems {
		t.Errorf("fact_order_items has %d rows after day 2; want %d + %d new", got, itemsBefore, newItems)
	}
	res := results(t, dir)
	if r := res["model.shop.fact_orders"]; r.Rows != newOrders {
		t.Errorf("the day-2 run loaded %d fact_orders rows, want only the %d new ones", r.Rows, newOrders)
	}

	// The incrementally maintained analytics agree with a full refresh of the same data.
	fullURL := pgtest.DB(t)
	fullDir := pipelineProject(t, 0.2, 2)
	t.Setenv("DATABASE_URL", fullURL)
	if code, out := strata(t, fullDir, "--target", "prod", "build"); code != 0 {
		t.Fatalf("full build of day 2 exited %d:\n%s", code, out)
	}
	for _, tbl := range []string{"daily_sales", "monthly_sales", "customer_metrics", "product_performance", "campaign_attribution", "executive_kpis"} {
		q := "select * from analytics." + tbl
		if a, b := queryRows(t, url, q+" order by 1, 2"), queryRows(t, fullURL, q+" order by 1, 2"); !reflect.DeepEqual(a, b) {
			t.Errorf("analytics.%s differs between the incremental day 2 (%d rows) and a full refresh (%d rows)%s", tbl, len(a), len(b), firstDiff(a, b))
		}
	}
}

func firstDiff(a, b [][]string) string {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return "; first difference at row " + strconv.Itoa(i+1) + ": " + strings.Join(a[i], ",") + " vs " + strings.Join(b[i], ",")
		}
	}
	return ""
}
