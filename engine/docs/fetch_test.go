package docs_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"strata/engine/artifacts"
	"strata/engine/docs"
)

// fakeQuerier answers the catalog query and the charts' queries, and records
// how many ran at once.
type fakeQuerier struct {
	catalogErr error
	mu         sync.Mutex
	queries    []string
	running    atomic.Int32
	peak       atomic.Int32
}

func (q *fakeQuerier) QueryText(ctx context.Context, sql string, args ...any) ([]string, [][]*string, error) {
	n := q.running.Add(1)
	defer q.running.Add(-1)
	for {
		p := q.peak.Load()
		if n <= p || q.peak.CompareAndSwap(p, n) {
			break
		}
	}
	q.mu.Lock()
	q.queries = append(q.queries, sql)
	q.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	s := func(v string) *string { return &v }
	switch {
	case strings.Contains(sql, "pg_attribute"):
		if q.catalogErr != nil {
			return nil, nil, q.catalogErr
		}
		return []string{"nspname", "relname", "attname", "format_type"}, [][]*string{
			{s("mart"), s("orders"), s("id"), s("bigint")},
			{s("mart"), s("orders"), s("total"), s("numeric(12,2)")},
			{s("other"), s("unrelated"), s("x"), s("text")},
		}, nil
	case strings.Contains(sql, "broken"):
		return nil, nil, errors.New(`relation "broken" does not exist`)
	}
	return []string{"v"}, [][]*string{{s("42")}}, nil
}

func fetchInput() *docs.Input {
	in := &docs.Input{Manifest: &artifacts.Manifest{
		Nodes: map[string]*artifacts.Node{
			"model.p.orders": {ID: "model.p.orders", ResourceType: "model", Name: "orders", Schema: "mart", Relation: `"mart"."orders"`},
			"model.p.empty":  {ID: "model.p.empty", ResourceType: "model", Name: "empty", Schema: "mart", Relation: `"mart"."empty"`},
		},
	}}
	d := &docs.Dashboard{Name: "d"}
	for i := range 6 {
		d.Charts = append(d.Charts, &docs.Chart{Title: string(rune('a' + i)), Type: "kpi", Relation: `"mart"."orders"`, Value: "total"})
	}
	d.Charts = append(d.Charts,
		&docs.Chart{Title: "broken", Type: "kpi", Relation: `"mart"."broken"`, Value: "v"},
		&docs.Chart{Title: "unknown model", Type: "kpi", Err: `no model or seed is called "nope"`})
	in.Dashboards = []*docs.Dashboard{d}
	return in
}

func TestFetchReadsCatalogOnceAndChartsConcurrently(t *testing.T) {
	q := &fakeQuerier{}
	in := fetchInput()
	if err := docs.Fetch(context.Background(), q, in); err != nil {
		t.Fatal(err)
	}
	catalog := 0
	for _, sql := range q.queries {
		if strings.Contains(sql, "pg_attribute") {
			catalog++
		}
	}
	if catalog != 1 || len(q.queries) != 8 {
		t.Errorf("ran %d queries, %d of them on the catalog; want 8 and 1:\n%s", len(q.queries), catalog, strings.Join(q.queries, "\n"))
	}
	if p := q.peak.Load(); p < 2 || p > docs.FetchConns {
		t.Errorf("at most %d queries ran at once, want between 2 and %d", p, docs.FetchConns)
	}
	if got := in.Catalog["model.p.orders"]; len(got) != 2 || got[1] != (docs.Column{Name: "total", Type: "numeric(12,2)"}) {
		t.Errorf("catalog of orders = %v", got)
	}
	if len(in.Catalog) != 1 {
		t.Errorf("catalog has %d relations, want only orders: %v", len(in.Catalog), in.Catalog)
	}
	charts := in.Dashboards[0].Charts
	for _, c := range charts[:6] {
		if c.Err != "" || c.Data == nil || *c.Data.Rows[0][0] != "42" {
			t.Errorf("chart %s: err %q, data %v", c.Title, c.Err, c.Data)
		}
	}
	if c := charts[6]; c.Data != nil || !strings.Contains(c.Err, "does not exist") {
		t.Errorf("broken chart: err %q, data %v", c.Err, c.Data)
	}
	if c := charts[7]; c.Data != nil || !strings.Contains(c.Err, "neither a model nor a query") {
		t.Errorf("chart without a relation: err %q", c.Err)
	}
}

func TestFetchCatalogFailureLeavesChartsEmpty(t *testing.T) {
	q := &fakeQuerier{catalogErr: errors.New("permission denied for table pg_attribute")}
	in := fetchInput()
	err := docs.Fetch(context.Background(), q, in)
	if err == nil || !strings.Contains(err.Error(), "reading the catalog: permission denied") {
		t.Fatalf("err = %v, want the catalog's error", err)
	}
	if in.Catalog != nil {
		t.Errorf("catalog = %v, want none", in.Catalog)
	}
	for _, c := range in.Dashboards[0].Charts {
		want := ""
		if c.Title == "unknown model" {
			want = `no model or seed is called "nope"`
		}
		if c.Data != nil || c.Err != want {
			t.Errorf("chart %s: err %q, data %v; want err %q and no data", c.Title, c.Err, c.Data, want)
		}
	}
}
