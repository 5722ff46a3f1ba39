package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/benchdir"
	"strata/engine/internal/pgtest"
	"strata/internal/exampledata"
)

// repoRoot is the example project: the repository itself.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// pipelineProject copies the example project's files (not its data or state) into a
// fresh folder and generates its seeds at the given scale.
func pipelineProject(t testing.TB, scale float64, day int) string {
	t.Helper()
	root := repoRoot(t)
	dir := benchdir.New(t)
	for _, p := range []string{"project.yaml", "models", "macros", "tests", "seeds/seeds.yml"} {
		src := filepath.Join(root, p)
		if _, err := os.Stat(src); os.IsNotExist(err) {
			continue
		}
		if err := copyTree(src, filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	generate(t, dir, scale, day)
	return dir
}

// generate writes the example data of a day into dir/seeds, as
// `go run ./cmd/gendata --scale scale --day day` does (seed 42).
func generate(t testing.TB, dir string, scale float64, day int) {
	t.Helper()
	cfg := exampledata.Config{Seed: 42, Scale: scale, Day: day}
	if _, err := exampledata.Generate(context.Background(), filepath.Join(dir, "seeds"), cfg); err != nil {
		t.Fatalf("gendata: %v", err)
	}
}

func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// dirty is the part of the generator's dirty_rows.json the checks need.
type dirty struct {
	Files map[string]struct {
		Key              []string `json:"key"`
		RowsAfterStaging int64    `json:"rows_after_staging"`
		Drop             []string `json:"drop"`
	} `json:"files"`
}

func readDirty(t *testing.T, dir string) dirty {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "seeds", "dirty_rows.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dirty
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// readCSV returns the rows of a seed as maps, keeping the first copy of each key.
func readCSV(t *testing.T, dir, file, key string, drop []string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "seeds", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	dropped := map[string]bool{}
	for _, id := range drop {
		dropped[id] = true
	}
	seen := map[string]bool{}
	var out []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		row := map[string]string{}
		for i, h := range header {
			row[h] = rec[i]
		}
		k := row[key]
		if seen[k] || dropped[k] {
			continue
		}
		seen[k] = true
		out = append(out, row)
	}
	return out
}

func cents(s string) int64 {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return 0
	}
	r.Mul(r, big.NewRat(100, 1))
	n, _ := r.Float64()
	if n < 0 {
		return int64(n - 0.5)
	}
	return int64(n + 0.5)
}

func canon(s string, values ...string) string {
	for _, v := range values {
		if strings.EqualFold(strings.TrimSpace(s), v) {
			return v
		}
	}
	return ""
}

// expected holds the figures computed from the CSVs alone.
type expected struct {
	revenue        int64
	ordersBySeg    map[string]int64
	topProducts    []string // product_id, by revenue desc then id
	churn          map[string]int64
	productRevenue map[string]int64
}

// computeExpected follows the staging rules of the YAML descriptions, not the models.
func computeExpected(t *testing.T, dir string) expected {
	d := readDirty(t, dir)
	customers := readCSV(t, dir, "raw_customers.csv", "customer_id", d.Files["raw_customers.csv"].Drop)
	orders := readCSV(t, dir, "raw_orders.csv", "order_id", d.Files["raw_orders.csv"].Drop)
	items := readCSV(t, dir, "raw_order_items.csv", "order_item_id", d.Files["raw_order_items.csv"].Drop)
	segment := map[string]string{}
	for _, c := range customers {
		segment[c["customer_id"]] = canon(c["segment"], "Consumer", "Corporate", "Home Office")
	}
	type order struct {
		customer string
		day      string
		sale     bool
		net      int64
		lines    int
	}
	byID := map[string]*order{}
	for _, o := range orders {
		st := canon(o["status"], "placed", "shipped", "delivered", "returned", "cancelled")
		byID[o["order_id"]] = &order{customer: o["customer_id"], day: o["order_date"][:10], sale: st != "cancelled" && st != "returned"}
	}
	e := expected{ordersBySeg: map[string]int64{}, churn: map[string]int64{}, productRevenue: map[string]int64{}}
	for _, it := range items {
		o := byID[it["order_id"]]
		if o == nil {
			continue
		}
		q, _ := strconv.ParseInt(it["quantity"], 10, 64)
		net := q*cents(it["unit_price"]) - cents(it["discount"])
		o.net += net
		o.lines++
		if o.sale {
			e.productRevenue[it["product_id"]] += net
		}
	}
	asOf := ""
	type cust struct {
		sales int64
		last  string
	}
	per := map[string]*cust{}
	for _, o := range byID {
		if o.lines == 0 {
			continue // staging dropped every line: the analytics do not count the order (macro has_lines)
		}
		if o.day > asOf {
			asOf = o.day
		}
		c := per[o.customer]
		if c == nil {
			c = &cust{}
			per[o.customer] = c
		}
		if o.day > c.last {
			c.last = o.day
		}
		if o.sale {
			e.revenue += o.net
			e.ordersBySeg[segment[o.customer]]++
			c.sales++
		}
	}
	asOfDay, _ := time.Parse("2006-01-02", asOf)
	for _, c := range customers {
		p := per[c["customer_id"]]
		risk := "never_ordered"
		if p != nil {
			last, _ := time.Parse("2006-01-02", p.last)
			days := int(asOfDay.Sub(last).Hours() / 24)
			switch {
			case days > 180:
				risk = "high"
			case days > 90 || p.sales <= 1:
				risk = "medium"
			default:
				risk = "low"
			}
		}
		e.churn[risk]++
	}
	ids := make([]string, 0, len(e.productRevenue))
	for id := range e.productRevenue {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := e.productRevenue[ids[i]], e.productRevenue[ids[j]]
		if a != b {
			return a > b
		}
		x, _ := strconv.Atoi(ids[i])
		y, _ := strconv.Atoi(ids[j])
		return x < y
	})
	e.topProducts = ids[:5]
	return e
}

func queryRows(t *testing.T, url, sql string) [][]string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		rec := make([]string, len(vals))
		for i, v := range vals {
			rec[i] = fmt.Sprint(v)
			if n, ok := v.(interface{ Value() (any, error) }); ok {
				if x, err := n.Value(); err == nil {
					rec[i] = fmt.Sprint(x)
				}
			}
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExamplePipeline builds the example project on generated data and checks
// it against figures computed from the CSVs alone.
func TestExamplePipeline(t *testing.T) {
	url := pgtest.DB(t)
	dir := pipelineProject(t, 0.2, 1)
	t.Setenv("DATABASE_URL", url)
	code, out := strata(t, dir, "--target", "prod", "build")
	if code != 0 {
		t.Fatalf("build exited %d:\n%s", code, out)
	}
	// The dirty rows show up only where the tests say they should: four warnings on the raw seeds.
	if !strings.Contains(out, "WARN=4 FAIL=0 ERROR=0 SKIP=0") {
		t.Errorf("build summary is not clean:\n%s", out[strings.LastIndex(out, "Finished"):])
	}

	// What staging dropped is exactly the dirty share the generator wrote.
	d := readDirty(t, dir)
	for file, view := range map[string]string{
		"raw_customers.csv": "stg_customers", "raw_products.csv": "stg_products", "raw_orders.csv": "stg_orders",
		"raw_order_items.csv": "stg_order_items", "raw_clickstream.csv": "stg_clickstream",
		"raw_marketing_campaigns.csv": "stg_marketing_campaigns", "raw_inventory.csv": "stg_inventory",
	} {
		if got, want := queryInt(t, url, "select count(*) from staging."+view), d.Files[file].RowsAfterStaging; got != want {
			t.Errorf("staging.%s has %d rows; the generator says %d survive staging", view, got, want)
		}
	}

	e := computeExpected(t, dir)
	rev := queryRows(t, url, "select (total_revenue * 100)::bigint from analytics.executive_kpis")
	if rev[0][0] != strconv.FormatInt(e.revenue, 10) {
		t.Errorf("total revenue %s cents, computed from the CSVs %d", rev[0][0], e.revenue)
	}
	for _, r := range queryRows(t, url, "select segment, sum(order_count)::bigint from analytics.customer_metrics group by 1") {
		if r[1] != strconv.FormatInt(e.ordersBySeg[r[0]], 10) {
			t.Errorf("segment %s: %s orders, computed %d", r[0], r[1], e.ordersBySeg[r[0]])
		}
	}
	top := queryRows(t, url, "select product_id::text from analytics.product_performance order by revenue desc, product_id limit 5")
	for i, r := range top {
		if r[0] != e.topProducts[i] {
			t.Errorf("top product %d is %s, computed %s (revenue %d)", i+1, r[0], e.topProducts[i], e.productRevenue[e.topProducts[i]])
		}
	}
	for _, r := range queryRows(t, url, "select churn_risk, count(*)::bigint from analytics.customer_metrics group by 1") {
		if r[1] != strconv.FormatInt(e.churn[r[0]], 10) {
			t.Errorf("churn risk %s: %s customers, computed %d", r[0], r[1], e.churn[r[0]])
		}
	}

	// Indexes (docs/example-pipeline.md, "Indexes"): each key, each key of another table a fact holds,
	// the day a fact is filtered by, and the ids the dashboards look up, each the first column of an index.
	indexed := map[string]bool{}
	for _, r := range queryRows(t, url, `select n.nspname || '.' || c.relname || '.' || a.attname
		from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
		join pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0]
		where n.nspname in ('warehouse', 'analytics') and not c.relispartition`) {
		indexed[r[0]] = true
	}
	for _, col := range []string{
		"warehouse.dim_customers.customer_key", "warehouse.dim_customers.customer_id",
		"warehouse.dim_products.product_key", "warehouse.dim_products.product_id",
		"warehouse.dim_time.date_key", "warehouse.dim_marketing_campaigns.campaign_id",
		"warehouse.fact_orders.order_id", "warehouse.fact_orders.customer_key", "warehouse.fact_orders.campaign_id", "warehouse.fact_orders.order_day",
		"warehouse.fact_order_items.order_item_id", "warehouse.fact_order_items.order_id", "warehouse.fact_order_items.product_key",
		"warehouse.fact_order_items.customer_key", "warehouse.fact_order_items.order_day",
		"warehouse.fact_clickstream.event_id", "warehouse.fact_clickstream.customer_key", "warehouse.fact_clickstream.product_key",
		"warehouse.fact_clickstream.event_day",
		"warehouse.fact_inventory.snapshot_date", "warehouse.fact_inventory.product_key",
		"analytics.customer_metrics.customer_id", "analytics.product_performance.product_id",
	} {
		if !indexed[col] {
			t.Errorf("no index starts with %s", col)
		}
	}

	// analytics_user reads analytics and the public dashboard views, and nothing else.
	reader := strings.Replace(url, "postgres://postgres@", "postgres://analytics_user@", 1)
	conn, err := pgx.Connect(context.Background(), reader)
	if err != nil {
		t.Fatalf("connect as analytics_user: %v", err)
	}
	defer conn.Close(context.Background())
	for _, rel := range []string{"analytics.daily_sales", "analytics.customer_metrics", "public.daily_sales", "public.executive_kpis"} {
		var n int64
		if err := conn.QueryRow(context.Background(), "select count(*) from "+rel).Scan(&n); err != nil || n == 0 {
			t.Errorf("analytics_user on %s: %d rows, %v", rel, n, err)
		}
	}
	for _, rel := range []string{"raw.raw_orders", "staging.stg_orders", "warehouse.fact_orders"} {
		var n int64
		err := conn.QueryRow(context.Background(), "select count(*) from "+rel).Scan(&n)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("analytics_user on %s: want permission denied, got %v", rel, err)
		}
	}
}
