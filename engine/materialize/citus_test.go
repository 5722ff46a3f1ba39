package materialize

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"strata/engine/pgname"
	"strata/engine/project"
)

// renderDistribute writes what Distribute reads and runs: the table's
// columns are taken to include the distribution column, as an integer.
func renderDistribute(w *strings.Builder, op Distribute, s *sample, stmt *int) {
	fmt.Fprintf(w, "-- reads the columns of %s", op.Rel.Quoted())
	if op.Dist.Colocate != nil {
		fmt.Fprintf(w, " and how %s is placed (here %v)", op.Dist.Colocate.Quoted(), s.colocated)
	}
	w.WriteString("\n")
	cols := []Column{{Name: op.Dist.Column, Type: "integer"}}
	steps, err := op.Steps(cols, s.colocated, pgCasts)
	if err != nil {
		fmt.Fprintf(w, "-- error: %v\n", err)
		return
	}
	for _, st := range steps {
		*stmt++
		fmt.Fprintf(w, "%s;\n", st.SQL)
	}
}

// pgCasts is PostgreSQL's answer to postgres.CanCast for the types of
// these tests: it has no cast from date to a number.
func pgCasts(from, to string) (bool, error) { return from != "date", nil }

func TestDistributionCreate(t *testing.T) {
	facts := pgname.Rel{Schema: "warehouse", Name: "fact_orders"}
	rel := pgname.Rel{Schema: "warehouse", Name: "fact_order_items__strata_new"}
	for _, c := range []struct {
		d    Distribution
		want string
	}{
		{Distribution{Reference: true}, `select create_reference_table('"warehouse"."fact_order_items__strata_new"')`},
		{Distribution{Column: "customer_id"}, `select create_distributed_table('"warehouse"."fact_order_items__strata_new"', 'customer_id')`},
		{Distribution{Column: "customer_id", Colocate: &facts}, `select create_distributed_table('"warehouse"."fact_order_items__strata_new"', 'customer_id', colocate_with => '"warehouse"."fact_orders"')`},
		{Distribution{Column: "Customer's Id", ShardCount: 8}, `select create_distributed_table('"warehouse"."fact_order_items__strata_new"', 'Customer''s Id', shard_count => 8)`},
	} {
		if got := c.d.Create(rel).SQL; got != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.d, got, c.want)
		}
	}
}

// TestDistributeRefusesWhatCitusWould: a distribution column the query
// does not return, and colocation with a table that is not distributed or
// is distributed by a column of another type, are said in the config's
// words, at its position.
func TestDistributeRefusesWhatCitusWould(t *testing.T) {
	facts := pgname.Rel{Schema: "warehouse", Name: "fact_orders"}
	tmp := pgname.Rel{Schema: "warehouse", Name: "x__strata_new"}
	cols := []Column{{"order_id", "bigint"}, {"customer_id", "integer"}}
	dist := Distribution{Column: "customer_id", Colocate: &facts, ColocateName: "fact_orders", Where: "models/w.yml:4:7", What: "model"}
	for _, c := range []struct {
		name string
		d    Distribution
		cols []Column
		with *Placed
		want string
	}{
		{"no such column", Distribution{Column: "customer_key", Where: "models/w.yml:4:7"}, cols, nil,
			`models/w.yml:4:7: distributed_by: the model's query returns no column "customer_key" (it has: order_id, customer_id)`},
		{"seed without the column", Distribution{Column: "cust", What: "seed", Where: "seeds/s.yml:3:5"}, cols, nil,
			`seeds/s.yml:3:5: distributed_by: the seed's file has no column "cust" (it has: order_id, customer_id)`},
		{"types differ", dist, cols, &Placed{Method: "distributed", Column: "customer_id", Type: "bigint"},
			`models/w.yml:4:7: colocate_with: fact_orders is distributed by customer_id (bigint), but this model's customer_id is integer; Citus colocates only tables whose distribution columns have the same type: cast it in the model ("customer_id"::bigint)`},
		{"types differ, no cast", dist, []Column{{"customer_id", "date"}}, &Placed{Method: "distributed", Column: "customer_id", Type: "bigint"},
			`models/w.yml:4:7: colocate_with: fact_orders is distributed by customer_id (bigint), but this model's customer_id is date; Citus colocates only tables whose distribution columns have the same type, and PostgreSQL has no cast from date to bigint: distribute this model by a column of type bigint, or colocate it with a table distributed by one of type date`},
		{"a reference table", dist, cols, &Placed{Method: "reference"},
			`models/w.yml:4:7: colocate_with: fact_orders (warehouse.fact_orders) is a reference table, not a distributed table to share shards with; rebuild it first (strata build -s fact_orders), which places it as its config says (distributed_by)`},
		{"on the coordinator", dist, cols, &Placed{Method: "local"},
			`models/w.yml:4:7: colocate_with: fact_orders (warehouse.fact_orders) is a table on the coordinator only, not a distributed table to share shards with; rebuild it first (strata build -s fact_orders), which places it as its config says (distributed_by)`},
		{"a view", dist, cols, &Placed{Method: "view"},
			`models/w.yml:4:7: colocate_with: fact_orders (warehouse.fact_orders) is a view, not a distributed table to share shards with; rebuild it first (strata build -s fact_orders), which places it as its config says (distributed_by)`},
		{"another kind", dist, cols, &Placed{Method: "other"},
			`models/w.yml:4:7: colocate_with: fact_orders (warehouse.fact_orders) is a relation that is not a table, not a distributed table to share shards with; rebuild it first (strata build -s fact_orders), which places it as its config says (distributed_by)`},
		{"not built", dist, cols, &Placed{Method: "missing"},
			`models/w.yml:4:7: colocate_with: fact_orders's table warehouse.fact_orders does not exist yet, so there are no shards to share; build fact_orders first (strata build -s fact_orders), or select it with this model`},
		{"fine", dist, cols, &Placed{Method: "distributed", Column: "customer_id", Type: "integer"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			steps, err := Distribute{Rel: tmp, Dist: c.d}.Steps(c.cols, c.with, pgCasts)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
			if err == nil && (len(steps) != 1 || !strings.HasPrefix(steps[0].SQL, "select create_distributed_table(")) {
				t.Errorf("steps = %v", steps)
			}
		})
	}
}

// TestDistributeBeside: a stage distributed beside a table (an scd2
// update's source, beside the dimension) joins that table's colocation
// group when its distribution column has the table's type, whatever its
// config's shard_count; else it is distributed as its config says.
func TestDistributeBeside(t *testing.T) {
	dim := pgname.Rel{Schema: "w", Name: "dim"}
	stage := pgname.Rel{Schema: "w", Name: "dim__strata_src"}
	at := &Placed{Method: "distributed", Column: "customer_id", Type: "bigint", Shards: 8, Colocation: 3}
	for _, c := range []struct {
		name string
		typ  string
		at   *Placed
		want string
	}{
		{"beside", "bigint", at, `select create_distributed_table('"w"."dim__strata_src"', 'customer_id', colocate_with => '"w"."dim"')`},
		{"another type", "integer", at, `select create_distributed_table('"w"."dim__strata_src"', 'customer_id', shard_count => 4)`},
		{"not read", "bigint", nil, `select create_distributed_table('"w"."dim__strata_src"', 'customer_id', shard_count => 4)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Distribute{Rel: stage, Dist: Distribution{Column: "customer_id", ShardCount: 4}, Beside: &dim, BesideAt: c.at}
			steps, err := d.Steps([]Column{{"id", "bigint"}, {"customer_id", c.typ}}, nil, pgCasts)
			if err != nil || len(steps) != 1 || steps[0].SQL != c.want {
				t.Errorf("got %v, %v\nwant %s", steps, err, c.want)
			}
		})
	}
}

func TestDistributionMatches(t *testing.T) {
	ref, byCust := Distribution{Reference: true}, Distribution{Column: "customer_id"}
	for _, c := range []struct {
		d    Distribution
		p    Placed
		want bool
	}{
		{ref, Placed{Method: "reference"}, true},
		{ref, Placed{Method: "local"}, false},
		{byCust, Placed{Method: "distributed", Column: "customer_id"}, true},
		{byCust, Placed{Method: "distributed", Column: "order_id"}, false},
		{byCust, Placed{Method: "reference"}, false},
	} {
		if got := c.d.Matches(c.p); got != c.want {
			t.Errorf("%v matches %v: %v, want %v", c.d, c.p, got, c.want)
		}
	}
}

// TestCitusSCD2Plans pins an scd2 dimension's statements on a Citus
// cluster: as a reference table and distributed, first build, later build
// and rebuild.
func TestCitusSCD2Plans(t *testing.T) {
	runTS := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	src := []Column{{"customer_id", "integer"}, {"name", "text"}, {"updated_at", "timestamp with time zone"}}
	dim := append([]Column{{"customer_key", "text"}}, append(src[:3:3], Column{"valid_from", "timestamp with time zone"}, Column{"valid_to", "timestamp with time zone"}, Column{"is_current", "boolean"})...)
	ref := &Distribution{Reference: true}
	dist := &Distribution{Column: "customer_id"}
	for _, tc := range []struct {
		name        string
		dist        *Distribution
		kind        string
		fullRefresh bool
	}{
		{"citus_scd2_reference_first", ref, "", false},
		{"citus_scd2_reference_update", ref, "table", false},
		{"citus_scd2_reference_rebuild", ref, "table", true},
		{"citus_scd2_distributed_first", dist, "", false},
		{"citus_scd2_distributed_update", dist, "table", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := model("scd2", func(c *project.Config) {
				c.UniqueKey, c.Strategy, c.UpdatedAt, c.HardDeletes, c.Indexes = []string{"customer_id"}, "timestamp", "updated_at", "invalidate", nil
			})
			m.Rel = pgname.Rel{Schema: "warehouse", Name: "dim_customers"}
			m.Dist = tc.dist
			d := NewSCD2(m, "customer", runTS)
			d.FullRefresh = tc.fullRefresh
			p := Plan{Model: m, Body: "select * from raw.customers"}
			var w strings.Builder
			stmt := 0
			s := sample{privileges: []Privilege{{Name: "SELECT", Grantee: "reader"}}}
			ops := func(ops []Op) {
				for _, op := range ops {
					renderOp(&w, p, op, &s, &stmt, nil)
				}
			}
			ops(d.Begin(p.Body))
			d = d.Staged(src)
			ops([]Op{CheckKeys{Build: d}})
			path, err := d.Path(tc.kind, tc.fullRefresh)
			if err != nil {
				t.Fatal(err)
			}
			if path == SCD2Create {
				ops(d.Build(tc.kind))
			} else {
				ops([]Op{Exec{Step: d.LockTable()}})
				_, up, err := d.Update(SCD2Observed{Source: src, Dimension: dim, HistoryKey: []string{"customer_id", "valid_from"}})
				if err != nil {
					t.Fatal(err)
				}
				ops(up)
			}
			ops(d.End())
			golden(t, tc.name, w.String())
		})
	}
}

// TestCitusModelPlans pins the statements of tables and incremental models
// on a Citus cluster: distributed and reference, new and replaced, with
// views on the old table, partitioned; merge, delete+insert and append.
func TestCitusModelPlans(t *testing.T) {
	body := "select 1 as id, 2 as customer_id, now() as at"
	byCustomer := func(c *project.Config) {}
	dist := &Distribution{Column: "customer_id", Where: "models/m.yml:3:5", What: "model"}
	facts := pgname.Rel{Schema: "mart", Name: "fact_orders"}
	colocated := &Distribution{Column: "customer_id", Colocate: &facts, ColocateName: "fact_orders", Where: "models/m.yml:3:5", What: "model"}
	ref := &Distribution{Reference: true, Where: "models/m.yml:3:5", What: "model"}
	partitioned := func(c *project.Config) {
		c.PartitionBy = &project.PartitionBy{Column: "at", Granularity: "month"}
	}
	inc := func(strategy string, edit func(*project.Config)) func(*project.Config) {
		return func(c *project.Config) {
			c.Materialized, c.IncrementalStrategy = "incremental", strategy
			if strategy != "append" {
				c.UniqueKey = []string{"id", "customer_id"}
			}
			if edit != nil {
				edit(c)
			}
		}
	}
	cols := sample{
		oldCols:    []Column{{"id", "integer"}, {"customer_id", "integer"}, {"at", "timestamp with time zone"}},
		newCols:    []Column{{"id", "integer"}, {"customer_id", "integer"}, {"at", "timestamp with time zone"}},
		privileges: []Privilege{{Name: "SELECT", Grantee: "reader"}},
		estimate:   100000, rows: 500,
		colocated: &Placed{Method: "distributed", Column: "customer_id", Type: "integer"},
	}
	withParts := cols
	withParts.parts, withParts.partitioned = []Partition{{Suffix: "202401", From: "2024-01-01", To: "2024-02-01"}}, true
	placed := &Placed{Method: "distributed", Column: "customer_id"}
	dependents := existing("table")
	dependents.HasDependents = true
	for _, tc := range []struct {
		name string
		mat  string
		edit func(*project.Config)
		dist *Distribution
		o    Observed
		s    sample
	}{
		{"citus_table_new", "table", byCustomer, colocated, Observed{Target: absent, Temp: absent}, cols},
		{"citus_table_with_dependents", "table", byCustomer, dist, Observed{Existing: "table", Target: dependents, Temp: absent}, cols},
		{"citus_table_reference", "table", nil, ref, Observed{Existing: "table", Target: existing("table"), Temp: absent}, cols},
		{"citus_table_partitioned", "table", partitioned, dist, Observed{Existing: "partitioned_table", Target: existing("partitioned_table"), Temp: absent}, withParts},
		{"citus_incremental_merge", "", inc("merge", nil), dist, Observed{Existing: "table", Target: existing("table"), Temp: absent, Placed: placed}, cols},
		{"citus_incremental_merge_partitioned", "", inc("merge", partitioned), dist, Observed{Existing: "partitioned_table", Target: existing("partitioned_table"), Temp: absent, Placed: placed}, withParts},
		{"citus_incremental_delete_insert", "", inc("delete+insert", nil), dist, Observed{Existing: "table", Target: existing("table"), Temp: absent, Placed: placed}, cols},
		{"citus_incremental_reference_merge", "", inc("merge", nil), ref, Observed{Existing: "table", Target: existing("table"), Temp: absent, Placed: &Placed{Method: "reference"}}, cols},
		{"citus_incremental_reference_delete_insert", "", inc("delete+insert", nil), ref, Observed{Existing: "table", Target: existing("table"), Temp: absent, Placed: &Placed{Method: "reference"}}, cols},
		{"citus_incremental_reference_append", "", inc("append", nil), ref, Observed{Existing: "table", Target: existing("table"), Temp: absent, Placed: &Placed{Method: "reference"}}, cols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mat := tc.mat
			if mat == "" {
				mat = "incremental"
			}
			m := model(mat, tc.edit)
			m.Dist = tc.dist
			p, err := PlanModel(m, body, tc.o, false)
			if err != nil {
				t.Fatal(err)
			}
			var w strings.Builder
			render(&w, p, &tc.s, 0)
			golden(t, tc.name, w.String())
		})
	}
}

// TestCitusPlacementMismatch: an incremental model whose table sits on the
// cluster otherwise than its config says is refused, naming the fix.
func TestCitusPlacementMismatch(t *testing.T) {
	m := model("incremental", func(c *project.Config) { c.IncrementalStrategy, c.UniqueKey = "merge", []string{"id", "customer_id"} })
	facts := pgname.Rel{Schema: "mart", Name: "facts"}
	colocated := &Distribution{Column: "customer_id", Colocate: &facts, ColocateName: "facts", Where: "models/m.yml:3:5", ColocateWhere: "models/m.yml:3:40"}
	for _, c := range []struct {
		dist   *Distribution
		placed Placed
		with   *Placed
		want   string
	}{
		{&Distribution{Column: "customer_id", Where: "models/m.yml:3:5"}, Placed{Method: "local"}, nil,
			"models/m.yml:3:5: mart.orders is a table on the coordinator only, but its config makes it distributed by customer_id; a load adds rows and never moves those there: rebuild it with --full-refresh -s orders"},
		{&Distribution{Column: "customer_id"}, Placed{Method: "distributed", Column: "id"}, nil,
			"mart.orders is distributed by id, but its config makes it distributed by customer_id; a load adds rows and never moves those there: rebuild it with --full-refresh -s orders"},
		{nil, Placed{Method: "reference"}, nil,
			"mart.orders is a reference table, but its config makes it a table on the coordinator only; a load adds rows and never moves those there: rebuild it with --full-refresh -s orders"},
		{&Distribution{Reference: true}, Placed{Method: "reference"}, nil, ""},
		{nil, Placed{Method: "local"}, nil, ""},
		// The shards the config asks for: shard_count's, or those of the
		// table colocate_with names (rebuilt with another count since).
		{&Distribution{Column: "customer_id", ShardCount: 64, Where: "models/m.yml:3:5", ShardWhere: "models/m.yml:3:30"}, Placed{Method: "distributed", Column: "customer_id", Shards: 32, Colocation: 3}, nil,
			"models/m.yml:3:30: mart.orders is distributed by customer_id in 32 shards, but its config makes it distributed by customer_id in 64 shards (shard_count); a load adds rows and never moves those there: rebuild it with --full-refresh -s orders"},
		{&Distribution{Column: "customer_id", ShardCount: 32}, Placed{Method: "distributed", Column: "customer_id", Shards: 32, Colocation: 3}, nil, ""},
		{colocated, Placed{Method: "distributed", Column: "customer_id", Shards: 32, Colocation: 3}, &Placed{Method: "distributed", Column: "customer_id", Shards: 64, Colocation: 5},
			"models/m.yml:3:40: mart.orders is distributed by customer_id in 32 shards, not colocated with facts (64 shards), but its config makes it distributed by customer_id, colocated with facts (colocate_with); a load adds rows and never moves those there: rebuild it with --full-refresh -s orders"},
		{colocated, Placed{Method: "distributed", Column: "customer_id", Shards: 32, Colocation: 3}, &Placed{Method: "distributed", Column: "customer_id", Shards: 32, Colocation: 3}, ""},
		// colocate_with's table not distributed (yet): the build says so
		// where it distributes; a load's stage colocates with the table.
		{colocated, Placed{Method: "distributed", Column: "customer_id", Shards: 32, Colocation: 3}, &Placed{Method: "missing"}, ""},
	} {
		m.Dist = c.dist
		_, err := PlanModel(m, "select 1", Observed{Existing: "table", Target: existing("table"), Temp: absent, Placed: &c.placed, With: c.with}, false)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%v on %v:\n got %s\nwant %s", c.dist, c.placed, got, c.want)
		}
	}
}

// TestCitusTruncateInsertMoves: a table model with swap: truncate_insert
// replaces its rows in place only where its table sits as its config says;
// one placed otherwise is rebuilt and swapped in, which moves it. In
// place, it stayed distributed by its old column (or a reference table,
// or on the coordinator) without a word.
func TestCitusTruncateInsertMoves(t *testing.T) {
	m := model("table", func(c *project.Config) { c.Swap = "truncate_insert" })
	byCustomer := &Distribution{Column: "customer_id"}
	for _, tc := range []struct {
		name    string
		dist    *Distribution
		placed  *Placed
		inPlace bool
	}{
		{"as configured", byCustomer, &Placed{Method: "distributed", Column: "customer_id"}, true},
		{"another column", byCustomer, &Placed{Method: "distributed", Column: "id"}, false},
		{"onto the cluster", byCustomer, &Placed{Method: "local"}, false},
		{"back to the coordinator", nil, &Placed{Method: "reference"}, false},
		{"other shards", &Distribution{Column: "customer_id", ShardCount: 8}, &Placed{Method: "distributed", Column: "customer_id", Shards: 4, Colocation: 2}, false},
		{"no Citus", nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.Dist = tc.dist
			p, err := PlanModel(m, "select 1 as id, 2 as customer_id", Observed{Existing: "table", Target: existing("table"), Temp: absent, Placed: tc.placed}, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Response == "DELETE+INSERT %d"; got != tc.inPlace {
				t.Errorf("in place: %v (%s), want %v", got, p.Response, tc.inPlace)
			}
		})
	}
}
