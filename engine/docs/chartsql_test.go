package docs_test

import (
	"testing"

	"strata/engine/docs"
)

// A chart reads its rows in the order its sort names: a table with a limit is
// a "top N" only when it is ordered.
func TestChartSQLOrder(t *testing.T) {
	cases := []struct {
		name  string
		chart docs.Chart
		want  string
	}{
		{"table, top 10 by revenue", docs.Chart{Type: "table", Relation: `"public"."products"`, Fields: []string{"product_name", "revenue"}, Sort: []string{"-revenue", "product_name"}, Limit: 10},
			`select "product_name", "revenue" from "public"."products" order by "revenue" desc nulls last, "product_name" asc nulls last limit 10`},
		{"table without sort keeps the database's order", docs.Chart{Type: "table", Relation: `"public"."products"`, Fields: []string{"product_name"}, Limit: 10},
			`select "product_name" from "public"."products" limit 10`},
		{"line ordered by x by default", docs.Chart{Type: "line", Relation: `"a"."s"`, X: "day", Y: []string{"v"}},
			`select "day", "v" from "a"."s" order by "day" limit 5000`},
		{"bar sorted by its value", docs.Chart{Type: "bar", Relation: `"a"."s"`, X: "risk", Y: []string{"customers"}, Sort: []string{"-customers"}},
			`select "risk", "customers" from "a"."s" order by "customers" desc nulls last limit 5000`},
		{"kpi of the latest row", docs.Chart{Type: "kpi", Relation: `"a"."s"`, Value: "revenue", Sort: []string{"-month"}},
			`select "revenue" from "a"."s" order by "month" desc nulls last limit 1`},
		{"a query is wrapped", docs.Chart{Type: "table", Query: "select a, b from t;", Sort: []string{"-b"}, Limit: 3},
			"select * from (\nselect a, b from t\n) as chart order by \"b\" desc nulls last limit 3"},
		{"odd column names are quoted", docs.Chart{Type: "table", Relation: `"a"."s"`, Sort: []string{`-we"ird`, "Mixed Case"}},
			`select * from "a"."s" order by "we""ird" desc nulls last, "Mixed Case" asc nulls last limit 5000`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := docs.ChartSQL(&c.chart)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
