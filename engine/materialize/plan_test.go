package materialize

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"strata/engine/pgname"
	"strata/engine/project"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sample is what a golden plan's ops read from the database on the way:
// made up, the same for every case unless the case says otherwise.
type sample struct {
	leftover    string // the kind of the temporary twin's leftover, "" for none
	oldCols     []Column
	newCols     []Column
	parts       []Partition
	privileges  []Privilege
	estimate    float64
	rows        int64
	changed     bool // SameDefinition: the definition changed
	populated   bool
	unique      bool
	byText      []string
	partitioned bool
	cols        []string // what AdaptColumns found to write, for Merge
	colocated   *Placed  // Distribute: how the table colocated with is placed
}

// render writes a plan as the statements it runs, in order, with the
// reads and decisions between them as comments, and what it gives way to.
func render(w *strings.Builder, p Plan, s *sample, depth int) {
	fmt.Fprintf(w, "-- plan: builds a %s; says %q\n-- one transaction\n", p.Kind, strings.ReplaceAll(p.Response, "%d", "N"))
	renderParts(w, p, p.Parts, s, depth, 1)
}

func renderParts(w *strings.Builder, p Plan, parts []Part, s *sample, depth, first int) {
	for i, part := range parts {
		n := first + i
		switch {
		case part.Publish && n > 1:
			fmt.Fprintf(w, "-- part %d, publishes: savepoint; lock_timeout short, retried from the savepoint when a lock is not granted in time\n", n)
		case part.Publish:
			fmt.Fprintf(w, "-- part %d, publishes: lock_timeout short, retried from the start when a lock is not granted in time\n", n)
		case n > 1 && (len(part.Yield) > 0 || part.Else != nil):
			fmt.Fprintf(w, "-- part %d: savepoint\n", n)
		default:
			fmt.Fprintf(w, "-- part %d\n", n)
		}
		stmt := 0
		for _, op := range part.Ops {
			renderOp(w, p, op, s, &stmt, part.Yield)
		}
		if part.Publish {
			w.WriteString("-- lock_timeout back to the session's\n")
		}
		if part.Else == nil {
			continue
		}
		if depth > 2 {
			w.WriteString("-- ...\n")
			continue
		}
		undo := "roll back to the part's savepoint"
		if n == 1 {
			undo = "roll back the transaction"
		}
		if len(part.Yield) > 0 {
			fmt.Fprintf(w, "-- if a statement marked (yields) fails with SQLSTATE %s: %s, then instead:\n", strings.Join(part.Yield, " or "), undo)
		} else {
			fmt.Fprintf(w, "-- if the definition or the columns changed: %s, then instead:\n", undo)
		}
		if n == 1 {
			render(w, *part.Else, s, depth+1)
		} else {
			fmt.Fprintf(w, "-- plan: builds a %s; says %q\n", part.Else.Kind, strings.ReplaceAll(part.Else.Response, "%d", "N"))
			renderParts(w, *part.Else, part.Else.Parts, s, depth+1, n)
		}
		w.WriteString("-- end of instead\n")
	}
	w.WriteString("-- commit\n")
}

func renderOp(w *strings.Builder, p Plan, op Op, s *sample, stmt *int, yield []string) {
	steps := func(steps ...Step) {
		for _, st := range steps {
			*stmt++
			fmt.Fprintf(w, "%s;\n", st.SQL)
		}
	}
	m := p.Model
	switch op := op.(type) {
	case Exec:
		*stmt++
		mark := ""
		if op.Yield && len(yield) > 0 {
			mark = " -- (yields)"
		}
		if op.Count != NoCount {
			mark += fmt.Sprintf(" -- (%s)", op.Count)
		}
		fmt.Fprintf(w, "%s;%s\n", op.SQL, mark)
	case Hooks:
		hooks, which := m.Config.PreHook, "pre_hook"
		if op.Post {
			hooks, which = m.Config.PostHook, "post_hook"
		}
		for _, h := range hooks {
			fmt.Fprintf(w, "-- %s, rendered: %s\n", which, h)
		}
	case Contract:
		if m.Config.Contract {
			w.WriteString("-- contract: the query's columns and types against the declared ones\n")
		}
	case Audit:
		fmt.Fprintf(w, "-- audit: the model's error-severity tests read %s; one that fails rolls the transaction back\n", op.On.Quoted())
	case DropLeftover:
		fmt.Fprintf(w, "-- reads the kind of %s (here: %q)\n", op.Rel.Quoted(), s.leftover)
		steps(op.Steps(s.leftover)...)
	case Partitions:
		if op.IfPartitioned {
			fmt.Fprintf(w, "-- reads the kind of %s (here partitioned: %v)\n", op.Parent.Quoted(), s.partitioned)
			if !s.partitioned {
				return
			}
		}
		q, err := op.Query()
		if err != nil {
			fmt.Fprintf(w, "-- error: %v\n", err)
			return
		}
		fmt.Fprintf(w, "%s;\n-- (here: %d periods)\n", q, len(s.parts))
		steps(op.Steps(s.parts)...)
	case PartitionColumn:
		fmt.Fprintf(w, "-- reads the columns of %s: %q must be a date or timestamp\n", op.StageRel().Quoted(), op.By.Column)
	case KeyColumns:
		fmt.Fprintf(w, "-- reads the columns of %s: unique_key %s must be among them\n", op.On.Quoted(), strings.Join(op.UniqueKey, ", "))
	case RenamePartitions:
		steps(op.Steps(s.parts)...)
	case CreateIndexes:
		steps(op.Steps(p.Model, s.parts)...)
	case AdaptColumns:
		fmt.Fprintf(w, "-- reads the columns of %s and %s\n", op.StageRel().Quoted(), op.Target.Quoted())
		st, cols, err := op.Steps(s.oldCols, s.newCols, nil)
		if err != nil {
			fmt.Fprintf(w, "-- error: %v\n", err)
			return
		}
		steps(st...)
		s.cols = cols
		fmt.Fprintf(w, "-- (writes: %s)\n", strings.Join(cols, ", "))
	case Merge:
		steps(op.Steps(s.cols)...)
	case SameColumns:
		fmt.Fprintf(w, "-- reads the columns of %s and %s (here the same)\n", op.Target.Quoted(), op.StageRel().Quoted())
	case SameDefinition:
		fmt.Fprintf(w, "%s;\n-- reads both definitions\n%s;\n-- (here changed: %v)\n", op.Create(p.Body), op.Drop(), s.changed)
	case Refresh:
		fmt.Fprintf(w, "-- reads whether %s is populated (%v) and has a unique index (%v)\n", op.Rel.Quoted(), s.populated, s.unique)
		steps(op.Step(s.populated, s.unique))
	case Finish:
		if op.ReadsIndexTypes(m) {
			fmt.Fprintf(w, "-- reads the types of the indexes of %s\n", op.On.Quoted())
		}
		var analyze []pgname.Rel
		switch op.Analyze {
		case AnalyzeAll:
			analyze = []pgname.Rel{op.On}
		case AnalyzeLoaded:
			fmt.Fprintf(w, "-- reads the estimated rows of %s (here %.0f, %d loaded)\n", op.On.Quoted(), s.estimate, s.rows)
			analyze = AnalyzeAfterLoad(op.On, s.parts, s.rows, s.estimate)
		}
		have := op.Have.List
		if !op.Have.Known {
			fmt.Fprintf(w, "-- reads the privileges on %s (here %v)\n", op.On.Quoted(), s.privileges)
			have = s.privileges
		}
		steps(op.Steps(m, analyze, have, s.parts)...)
	case Swap:
		keep := ""
		if op.KeepComment {
			keep = " and comment"
		}
		fmt.Fprintf(w, "-- swap %s into place as %s: the views that depend on it are read, dropped and recreated; its privileges, owner, column comments, row-level security%s carried over\n", op.Temp.Quoted(), op.Target.Quoted(), keep)
	case CheckKeys:
		steps(op.Savepoint(), op.Build.KeyIndex())
		fmt.Fprintf(w, "-- on unique_violation: %s;\n%s;\n", op.Rollback().SQL, op.Build.NullKeys())
	case CompareByText:
		steps(op.Probe(op.Build.Compare)...)
		steps(op.Undo(false)...)
		fmt.Fprintf(w, "-- (here compared by text: %v)\n", s.byText)
	case Changes:
		steps(op.Build.WithByText(s.byText).Changes())
		fmt.Fprintf(w, "-- (%s)\n", Inserted)
	case Count:
		fmt.Fprintf(w, "%s; -- (%s)\n", op.SQL, op.Into)
	case Distribute:
		renderDistribute(w, op, s, stmt)
	default:
		fmt.Fprintf(w, "-- unknown op %T\n", op)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./engine/materialize -run %s -update to write it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the plan (-update rewrites it):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func model(mat string, edit func(*project.Config)) Model {
	c := project.Config{Materialized: mat, Indexes: []project.Index{{Columns: []string{"id"}}}, Grants: map[string][]string{"select": {"reader"}}}
	if mat == "view" {
		c.Indexes = nil
	}
	if edit != nil {
		edit(&c)
	}
	return Model{Rel: pgname.Rel{Schema: "mart", Name: "orders"}, Config: c, Description: "One row per order."}
}

// audit makes m a model whose tests audit it.
func audit(m Model) Model {
	m.Audit = true
	return m
}

// undescribed is m without a description: the relation keeps its comment.
func undescribed(m Model) Model {
	m.Description = ""
	return m
}

var (
	absent   = State{Known: true}
	unknown  = State{}
	comment  = "One row per order."
	existing = func(kind string) State {
		return State{Known: true, Exists: true, Kind: kind, Privileges: []Privilege{{Name: "SELECT", Grantee: "reader"}}, Comment: &comment}
	}
)

// TestModelPlans pins the statements each materialization runs, in order,
// for the states of the database that choose between its paths.
func TestModelPlans(t *testing.T) {
	body := "select 1 as id, now() as at"
	partitioned := func(c *project.Config) {
		c.PartitionBy = &project.PartitionBy{Column: "at", Granularity: "month"}
	}
	hooks := func(c *project.Config) {
		c.PreHook = []string{"set local statement_timeout = '1min'"}
		c.PostHook = []string{"analyze {{ this }}"}
	}
	parts := []Partition{{Suffix: "202401", From: "2024-01-01", To: "2024-02-01"}, {Suffix: "default"}}
	cols := sample{
		oldCols:    []Column{{"id", "integer"}, {"at", "timestamp with time zone"}, {"v", "text"}},
		newCols:    []Column{{"id", "integer"}, {"at", "timestamp with time zone"}, {"v", "text"}},
		privileges: []Privilege{{Name: "SELECT", Grantee: "reader"}},
		estimate:   100000, rows: 500,
	}
	withParts := cols
	withParts.parts, withParts.partitioned = parts, true
	inc := func(strategy string, edit func(*project.Config)) Model {
		return model("incremental", func(c *project.Config) {
			c.IncrementalStrategy = strategy
			if strategy != "append" {
				c.UniqueKey = []string{"id"}
			}
			if edit != nil {
				edit(c)
			}
		})
	}
	for _, tc := range []struct {
		name        string
		m           Model
		o           Observed
		fullRefresh bool
		s           sample
	}{
		// The fast path: one round trip, given way to a rebuild when the
		// view cannot be redefined in place.
		{"view_in_place", model("view", nil), Observed{Existing: "view", Target: existing("view"), Temp: absent}, false, sample{}},
		{"view_new", model("view", nil), Observed{Target: absent, Temp: absent}, false, sample{}},
		{"view_with_hooks", model("view", hooks), Observed{Existing: "view", Target: existing("view"), Temp: absent}, false, sample{privileges: []Privilege{{Name: "SELECT", Grantee: "reader"}, {Name: "UPDATE", Grantee: "writer"}}}},
		{"view_over_table", model("view", nil), Observed{Existing: "table", Target: existing("table"), Temp: absent}, false, sample{}},
		{"table_new", model("table", nil), Observed{Target: absent, Temp: absent}, false, sample{}},
		{"table_replace", model("table", nil), Observed{Existing: "table", Target: existing("table"), Temp: absent}, false, sample{}},
		{"table_with_dependents", model("table", nil), Observed{Existing: "table", Target: func() State { s := existing("table"); s.HasDependents = true; return s }(), Temp: absent}, false, sample{}},
		{"table_unknown_catalog", model("table", hooks), Observed{Existing: "table", Target: unknown, Temp: unknown}, false, sample{leftover: "table", privileges: []Privilege{{Name: "SELECT", Grantee: "public_reader"}}}},
		{"table_partitioned", model("table", partitioned), Observed{Existing: "partitioned_table", Target: existing("partitioned_table"), Temp: absent}, false, withParts},
		{"incremental_first", inc("merge", nil), Observed{Target: absent, Temp: absent}, false, sample{}},
		{"incremental_full_refresh", inc("merge", nil), Observed{Existing: "table", Target: existing("table"), Temp: absent}, true, sample{}},
		{"incremental_append", inc("append", nil), Observed{Existing: "table", Target: existing("table"), Temp: absent}, false, cols},
		{"incremental_merge", inc("merge", nil), Observed{Existing: "table", Target: existing("table"), Temp: absent}, false, cols},
		{"incremental_delete_insert", inc("delete+insert", nil), Observed{Existing: "table", Target: existing("table"), Temp: absent}, false, cols},
		{"incremental_append_partitioned", inc("append", partitioned), Observed{Existing: "partitioned_table", Target: existing("partitioned_table"), Temp: absent}, false, withParts},
		{"incremental_merge_partitioned", inc("merge", partitioned), Observed{Existing: "partitioned_table", Target: existing("partitioned_table"), Temp: absent}, false, withParts},
		{"incremental_delete_insert_partitioned", inc("delete+insert", partitioned), Observed{Existing: "partitioned_table", Target: existing("partitioned_table"), Temp: absent}, false, withParts},
		{"incremental_new_columns", inc("merge", func(c *project.Config) { c.OnSchemaChange = "append_new_columns" }), Observed{Existing: "table", Target: existing("table"), Temp: absent}, false,
			sample{oldCols: cols.oldCols, newCols: append(cols.newCols, Column{"w", "numeric"}), estimate: 100, rows: 50}},
		{"materialized_view_refresh", model("materialized_view", nil), Observed{Existing: "materialized_view", Target: existing("materialized_view"), Temp: absent}, false, sample{populated: true, unique: true, privileges: []Privilege{{Name: "SELECT", Grantee: "reader"}}}},
		{"materialized_view_rebuild", model("materialized_view", nil), Observed{Existing: "materialized_view", Target: existing("materialized_view"), Temp: absent}, true, sample{}},
		{"materialized_view_new", model("materialized_view", nil), Observed{Target: absent, Temp: absent}, false, sample{}},
		// Write-audit-publish: the tests read the new version before it is
		// published, in the same transaction.
		{"table_audited", audit(model("table", nil)), Observed{Existing: "table", Target: existing("table"), Temp: absent}, false, sample{}},
		{"table_partitioned_audited", audit(model("table", partitioned)), Observed{Existing: "partitioned_table", Target: existing("partitioned_table"), Temp: absent}, false, withParts},
		{"view_audited", audit(model("view", hooks)), Observed{Existing: "view", Target: existing("view"), Temp: absent}, false, sample{}},
		{"view_audited_unknown_catalog", audit(model("view", nil)), Observed{Existing: "view", Target: unknown, Temp: unknown}, false, sample{privileges: []Privilege{{Name: "SELECT", Grantee: "reader"}}}},
		{"incremental_audited", audit(inc("merge", nil)), Observed{Existing: "table", Target: existing("table"), Temp: absent}, false, cols},
		{"materialized_view_audited", audit(model("materialized_view", nil)), Observed{Existing: "materialized_view", Target: existing("materialized_view"), Temp: absent}, false, sample{}},
		// What was granted or set by hand on the old relation is carried
		// over: privileges and comment by the catalog's word; anything
		// more (owner, row-level security, column comments) the careful way.
		{"table_carry_privileges", undescribed(model("table", nil)), Observed{Existing: "table", Target: func() State {
			s := existing("table")
			s.Privileges = append(s.Privileges, Privilege{Name: "SELECT", Grantee: "bob"}, Privilege{Name: "UPDATE", Grantee: "carol", Grantable: true})
			return s
		}(), Temp: absent}, false, sample{}},
		{"table_carry_more", model("table", nil), Observed{Existing: "table", Target: func() State { s := existing("table"); s.Carry = true; return s }(), Temp: absent}, false, sample{}},
		// Stale scratch relations of the model are dropped under its lock.
		{"incremental_leftovers", inc("merge", nil), Observed{Existing: "table", Target: existing("table"), Temp: existing("table"),
			Leftovers: []Leftover{{Rel: pgname.Rel{Schema: "mart", Name: "orders__strata_src"}, Kind: "table"}}}, false, cols},
		// swap: truncate_insert replaces the rows in place, for snapshot
		// readers; a change of columns rebuilds the table instead.
		{"table_truncate_insert", audit(model("table", func(c *project.Config) { c.Swap = "truncate_insert" })), Observed{Existing: "table", Target: existing("table"), Temp: absent}, false, sample{}},
		{"table_with_post_hook", model("table", func(c *project.Config) { c.PostHook = []string{"analyze {{ this }}"} }), Observed{Existing: "table", Target: existing("table"), Temp: absent}, false, sample{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PlanModel(tc.m, body, tc.o, tc.fullRefresh)
			if err != nil {
				t.Fatal(err)
			}
			var w strings.Builder
			render(&w, p, &tc.s, 0)
			golden(t, tc.name, w.String())
		})
	}
}

// path names the path a plan takes: V the view in place, R a rebuild
// swapped in, I incremental, F a refresh in place.
func path(p Plan) string {
	for _, op := range p.Parts[0].Ops {
		switch op := op.(type) {
		case SameDefinition:
			return "F"
		case Merge:
			return "I"
		case Exec:
			if strings.HasPrefix(op.SQL, "select pg_advisory_xact_lock_shared") {
				return "V"
			}
		case Audit:
			if p.Kind == "view" && slices.Contains(p.Parts[1].Yield, "42P16") {
				return "A"
			}
		}
	}
	return "R"
}

// TestPlanPaths pins which path each materialization takes on what is
// there: V the view in place, R a rebuild swapped in, I incremental, F a
// refresh in place.
func TestPlanPaths(t *testing.T) {
	mats := []string{"view", "table", "incremental", "materialized_view"}
	// For each kind of relation there, the path of each of mats, without
	// and with --full-refresh.
	want := map[string][2]string{
		"":                  {"VRRR", "VRRR"},
		"view":              {"VRRR", "VRRR"},
		"table":             {"RRIR", "RRRR"},
		"partitioned_table": {"RRIR", "RRRR"},
		"materialized_view": {"RRRF", "RRRR"},
	}
	for existing, paths := range want {
		for f, fullRefresh := range []bool{false, true} {
			got := ""
			for _, mat := range mats {
				m := model(mat, nil)
				if existing == "partitioned_table" {
					// As it was built: an incremental load keeps the partitioning.
					m.Config.PartitionBy = &project.PartitionBy{Column: "d"}
				}
				p, err := PlanModel(m, "select 1", Observed{Existing: existing, Target: absent, Temp: absent}, fullRefresh)
				if err != nil {
					t.Fatal(err)
				}
				got += path(p)
			}
			if got != paths[f] {
				t.Errorf("over %q (full refresh %v): paths %s, want %s (for %v)", existing, fullRefresh, got, paths[f], mats)
			}
		}
	}
	// Audited: a view is built under its temporary name first (A), a
	// materialized view is always rebuilt, never refreshed in place.
	audited := map[string][2]string{
		"":                  {"ARRR", "ARRR"},
		"view":              {"ARRR", "ARRR"},
		"table":             {"RRIR", "RRRR"},
		"materialized_view": {"RRRR", "RRRR"},
	}
	for existing, paths := range audited {
		for f, fullRefresh := range []bool{false, true} {
			got := ""
			for _, mat := range mats {
				m := model(mat, nil)
				m.Audit = true
				p, err := PlanModel(m, "select 1", Observed{Existing: existing, Target: absent, Temp: absent}, fullRefresh)
				if err != nil {
					t.Fatal(err)
				}
				got += path(p)
			}
			if got != paths[f] {
				t.Errorf("audited, over %q (full refresh %v): paths %s, want %s (for %v)", existing, fullRefresh, got, paths[f], mats)
			}
		}
	}
	if _, err := PlanModel(model("incremental", func(c *project.Config) { c.IncrementalStrategy = "merge" }), "select 1", Observed{Existing: "table"}, false); err == nil ||
		err.Error() != "incremental_strategy: merge needs a unique_key (one column or a list of them)" {
		t.Errorf("merge without a key: %v", err)
	}
}

// TestSCD2Plans pins the statements of an scd2 build: the first, a rebuild,
// and a later one in each hard_deletes mode, in the order the runner runs
// them: Begin, the columns read, CheckKeys, then Build or, after LockTable
// and what it reads of the dimension, Update; then End.
func TestSCD2Plans(t *testing.T) {
	runTS := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	src := []Column{{"id", "integer"}, {"name", "text"}, {"doc", "json"}, {"updated_at", "timestamp with time zone"}}
	dim := func(extra ...Column) []Column {
		return append(append([]Column{{"customers_key", "text"}}, append(src[:2:2], Column{"gone", "text"})...),
			append([]Column{{"valid_from", "timestamp with time zone"}, {"valid_to", "timestamp with time zone"}, {"is_current", "boolean"}}, extra...)...)
	}
	for _, tc := range []struct {
		name, strategy, hardDeletes, kind string
		fullRefresh                       bool
		dim                               []Column
		byText                            []string
	}{
		{"scd2_first", "timestamp", "invalidate", "", false, nil, nil},
		{"scd2_rebuild", "timestamp", "invalidate", "table", true, nil, nil},
		{"scd2_update_ignore", "check", "ignore", "table", false, dim(), []string{"doc"}},
		{"scd2_update_invalidate", "timestamp", "invalidate", "table", false, dim(), nil},
		{"scd2_update_new_record", "check", "new_record", "table", false, dim(), []string{"doc"}},
		{"scd2_update_new_record_again", "timestamp", "new_record", "table", false, dim(Column{"is_deleted", "boolean"}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := model("scd2", func(c *project.Config) {
				c.UniqueKey, c.Strategy, c.HardDeletes, c.Indexes = []string{"id"}, tc.strategy, tc.hardDeletes, nil
				if tc.strategy == "timestamp" {
					c.UpdatedAt = "updated_at"
				}
			})
			m.Rel.Name = "dim_customers"
			d := NewSCD2(m, "customers", runTS)
			p := Plan{Model: m, Body: "select * from raw.customers"}
			var w strings.Builder
			stmt := 0
			s := sample{byText: tc.byText, privileges: []Privilege{{Name: "SELECT", Grantee: "reader"}}}
			ops := func(ops []Op) {
				for _, op := range ops {
					renderOp(&w, p, op, &s, &stmt, nil)
				}
			}
			ops(d.Begin(p.Body))
			fmt.Fprintf(&w, "-- reads the columns of %s\n", d.Source.Quoted())
			d = d.Staged(src)
			if err := d.CheckSource(); err != nil {
				t.Fatal(err)
			}
			ops([]Op{CheckKeys{Build: d}})
			fmt.Fprintf(&w, "-- reads the kind of %s (here %q)\n", d.Target.Quoted(), tc.kind)
			path, err := d.Path(tc.kind, tc.fullRefresh)
			if err != nil {
				t.Fatal(err)
			}
			switch path {
			case SCD2Create:
				ops(d.Build(tc.kind))
			case SCD2Update:
				ops([]Op{Exec{Step: d.LockTable()}})
				fmt.Fprintf(&w, "-- reads the columns of %s and of its index %s\n", d.Target.Quoted(), pgname.Ident(d.HistoryIndex()))
				_, up, err := d.Update(SCD2Observed{Source: src, Dimension: tc.dim, HistoryKey: []string{"id", "valid_from"}})
				if err != nil {
					t.Fatal(err)
				}
				ops(up)
			default:
				t.Fatalf("path %v", path)
			}
			ops(d.End())
			golden(t, tc.name, w.String())
		})
	}
}

// TestSCD2Paths pins what a build does with what stands at the dimension's
// name, and the errors of a dimension built otherwise.
func TestSCD2Paths(t *testing.T) {
	d := NewSCD2(Model{Rel: pgname.Rel{Schema: "wh", Name: "dim"}, Config: project.Config{UniqueKey: []string{"id"}}}, "dim", time.Time{})
	for _, tc := range []struct {
		kind        string
		fullRefresh bool
		want        SCD2Path
		err         string
	}{
		{"", false, SCD2Create, ""},
		{"table", true, SCD2Create, ""},
		{"view", true, SCD2Create, ""},
		{"table", false, SCD2Update, ""},
		{"materialized_view", false, 0, "materialized: wh.dim is a materialized view, not an scd2 dimension; drop it, or rebuild it with --full-refresh --full-refresh-scd2"},
	} {
		got, err := d.Path(tc.kind, tc.fullRefresh)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("%q full refresh %v: %v, %v", tc.kind, tc.fullRefresh, got, err)
		}
	}
	d = d.Staged([]Column{{"id", "integer"}, {"v", "text"}})
	cols := []Column{{"dim_key", "text"}, {"id", "integer"}, {"v", "text"}, {"valid_from", "timestamptz"}, {"valid_to", "timestamptz"}, {"is_current", "boolean"}}
	for _, tc := range []struct {
		name string
		o    SCD2Observed
		err  string
	}{
		{"fine", SCD2Observed{Source: d.sourceCols(), Dimension: cols, HistoryKey: []string{"id", "valid_from"}}, ""},
		{"no history index", SCD2Observed{Source: d.sourceCols(), Dimension: cols}, ""},
		{"not a dimension", SCD2Observed{Source: d.sourceCols(), Dimension: cols[1:]}, `scd2_columns: wh.dim has no column "dim_key", so it is not an scd2 dimension built with this config; rebuild it with --full-refresh --full-refresh-scd2, which drops its history`},
		{"a table", SCD2Observed{Source: d.sourceCols(), Dimension: []Column{{"id", "integer"}, {"v", "text"}}}, "materialized: wh.dim is a table, not an scd2 dimension; drop it, or rebuild it with --full-refresh --full-refresh-scd2"},
		{"other key", SCD2Observed{Source: d.sourceCols(), Dimension: cols, HistoryKey: []string{"v", "valid_from"}}, "unique_key: wh.dim was built with unique_key (v) but the config now says (id); with another key every entity would get a second current version. Keep the key, or rebuild the dimension with --full-refresh --full-refresh-scd2, which drops its history"},
		{"other types", SCD2Observed{Source: []Column{{"id", "bigint"}, {"v", "integer"}}, Dimension: cols}, `column types changed since wh.dim was built: "id" is integer in the dimension but bigint in the model's query; "v" is text in the dimension but integer in the model's query. Cast them in the model to the dimension's types, change the dimension's columns (alter table ... alter column ... type ...), or rebuild it with --full-refresh --full-refresh-scd2, which drops its history`},
	} {
		_, _, err := d.Update(tc.o)
		if (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.err)
		}
	}
	for _, tc := range []struct {
		counts   map[Counter]int64
		rows     int64
		response string
	}{
		{map[Counter]int64{Inserted: 7, Closed: 5}, 7, "SCD2 2 new, 5 changed, 0 deleted"},
		{map[Counter]int64{Inserted: 9, Closed: 6, Deleted: 2, Markers: 2}, 9, "SCD2 3 new, 4 changed, 2 deleted"},
	} {
		rows, response := UpdateResult(tc.counts)
		if rows != tc.rows || response != tc.response {
			t.Errorf("UpdateResult(%v) = %d, %q, want %d, %q", tc.counts, rows, response, tc.rows, tc.response)
		}
	}
	if rows, response := CreateResult(map[Counter]int64{Staged: 4}, true); rows != 4 || response != "SCD2 4 new (rebuilt: history dropped)" {
		t.Errorf("CreateResult = %d, %q", rows, response)
	}
}

// sourceCols are the staged source's columns, typed as in TestSCD2Paths.
func (s SCD2) sourceCols() []Column {
	out := make([]Column, len(s.Columns))
	for i, c := range s.Columns {
		out[i] = Column{Name: c, Type: map[string]string{"id": "integer", "v": "text"}[c]}
	}
	return out
}

// AnalyzeAfterLoad analyzes the whole table once a tenth of it changed,
// else only the partitions written to.
func TestAnalyzeAfterLoad(t *testing.T) {
	target := pgname.Rel{Schema: "s", Name: "t"}
	parts := []Partition{{Suffix: "202401"}, {Suffix: "default"}}
	for _, tc := range []struct {
		rows     int64
		estimate float64
		want     string
	}{
		{10, 100, `"s"."t"`},
		{10, 0, `"s"."t"`},
		{9, 100, `"s"."t_p202401" "s"."t_pdefault"`},
	} {
		var got []string
		for _, r := range AnalyzeAfterLoad(target, parts, tc.rows, tc.estimate) {
			got = append(got, r.Quoted())
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%d of %.0f: %v, want %s", tc.rows, tc.estimate, got, tc.want)
		}
	}
	if got := AnalyzeAfterLoad(target, nil, 1, 100); len(got) != 0 {
		t.Errorf("an unpartitioned table with few rows loaded: %v", got)
	}
}
