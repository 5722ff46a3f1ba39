package materialize

import (
	"fmt"
	"strings"

	"strata/engine/pgname"
	"strata/engine/project"
)

// Model is what a plan needs to know of a model: its relation, config and
// description.
type Model struct {
	Rel         pgname.Rel
	Config      project.Config
	Description string
}

func (m Model) hasHooks() bool { return len(m.Config.PreHook) > 0 || len(m.Config.PostHook) > 0 }

// State is a relation as the run knows it before the build: from the run's
// catalog (see postgres.Catalog), so a plan costs no round trips to make.
type State struct {
	// Known: the rest is current. When false, nothing else is known, and the
	// plan reads what it needs from the database inside its transaction.
	Known  bool
	Exists bool
	Kind   string // as postgres.RelKind names it
	// Privileges are held by roles other than the owner, as (PRIVILEGE, role).
	Privileges    [][2]string
	Comment       *string
	HasDependents bool // a view or materialized view reads it
}

// Observed is what the run knows of the database when it plans a model.
type Observed struct {
	// Existing is the kind of relation the model's name holds now ("" for
	// none): the catalog's word, or the database's where the choice between
	// building in place and rebuilding depends on it.
	Existing string
	// Target is the model's relation and Temp its temporary twin (a leftover
	// of a failed build, if it exists).
	Target, Temp State
	// DefaultPrivileges: a fresh relation may get privileges that only the
	// database knows (ALTER DEFAULT PRIVILEGES).
	DefaultPrivileges bool
}

// A Plan is how a model is built: transactions, run in order. It is made
// from the model and what was observed before the build; what the
// transactions read on the way (columns, partitions, privileges) goes into
// the methods of their ops, which write the statements that follow.
type Plan struct {
	// Kind is the kind of relation the model is once the plan ran.
	Kind string
	// Response says what was done; %d in it stands for Rows.
	Response string
	Model    Model
	Body     string // the model's SQL
	Txs      []Tx
}

// Tx is one transaction of a plan.
type Tx struct {
	// Batch: the ops are Exec and RenamePartitions only, and are sent in one
	// round trip that PostgreSQL runs as one transaction.
	Batch bool
	Ops   []Op
	// Yield: when an Exec marked Yield fails with one of these SQLSTATEs,
	// the transaction is rolled back (nothing changed) and Else runs in
	// place of the rest of the plan.
	Yield []string
	Else  *Plan
	// Temp, when set, is the relation this transaction builds under a
	// temporary name: once it committed, the relation is renamed into place
	// (or dropped) by the next; if it rolled back, a leftover may be there.
	Temp *pgname.Rel
	// Cleanup, when set, runs on its own when the transaction fails.
	Cleanup *Step
}

// Op is one thing a transaction does: Exec, Hooks, Contract, DropLeftover,
// Partitions, RenamePartitions, AdaptColumns, Merge, SameDefinition,
// Refresh, Finish, Swap, and for scd2 CheckKeys, CompareByText, Changes and
// Count.
type Op interface{ isOp() }

// op makes a type an Op.
type op struct{}

func (op) isOp() {}

// Counter names a count a plan keeps: the rows of a statement, or a count
// read with a query.
type Counter int

// The counts of plans. Rows is the model's row count.
const (
	NoCount Counter = iota
	Rows
	Staged
	Inserted
	Closed
	Markers
	Deleted
)

func (c Counter) String() string {
	return [...]string{"none", "rows", "staged", "inserted", "closed", "markers", "deleted"}[c]
}

// Exec runs a statement.
type Exec struct {
	op
	Step
	// Count, when set, keeps the statement's row count.
	Count Counter
	// Yield: its failure may give way to the transaction's Else (Tx.Yield).
	Yield bool
}

// Hooks runs the model's pre_hook statements (Post false) or post_hook ones.
type Hooks struct {
	op
	Post bool
}

// Contract checks, before any data moves, that the model's query returns
// exactly the declared columns with the declared types.
type Contract struct{ op }

// DropLeftover drops Rel, the leftover of an earlier build, if the
// database says it exists.
type DropLeftover struct {
	op
	Rel pgname.Rel
}

// Steps drops the leftover, whose kind the database gave ("" for none).
func (d DropLeftover) Steps(kind string) []Step {
	if kind == "" {
		return nil
	}
	return []Step{DropIfExists(d.Rel, kind)}
}

// Partitions creates the partitions of Parent (named after Base) for the
// periods of the rows in the temporary table Stage. IfPartitioned: only
// when the database says Parent is a partitioned table.
type Partitions struct {
	op
	Stage         string
	Parent        pgname.Rel
	Base          string
	By            project.PartitionBy
	IfPartitioned bool
}

// Query lists the periods, one row per partition (see PartitionPeriods).
func (p Partitions) Query() (string, error) {
	return PartitionPeriods(pgname.Ident(p.Stage), p.By)
}

// Steps creates the partitions the query found.
func (p Partitions) Steps(parts []Partition) []Step { return CreatePartitions(p.Parent, p.Base, parts) }

// RenamePartitions gives the partitions Partitions created under From's
// name the names they have under To's.
type RenamePartitions struct {
	op
	From, To pgname.Rel
}

// Steps renames the partitions found.
func (r RenamePartitions) Steps(parts []Partition) []Step {
	var out []Step
	for _, p := range parts {
		out = append(out, RenameTo(r.From.In(pgname.Partition(r.From.Name, p.Suffix)), "table", pgname.Partition(r.To.Name, p.Suffix)))
	}
	return out
}

// AdaptColumns compares the columns of an incremental model's table with
// those of its staged new rows, per on_schema_change (SchemaChange).
type AdaptColumns struct {
	op
	Target    pgname.Rel
	Stage     string
	Mode      string
	UniqueKey []string
}

// StageRel is the staged rows' table, in the session's temporary schema.
func (s AdaptColumns) StageRel() pgname.Rel { return pgname.Rel{Schema: "pg_temp", Name: s.Stage} }

// Steps checks the unique key against the new rows and returns the
// statements that adapt the table, and the columns to write.
func (s AdaptColumns) Steps(old, new []Column) ([]Step, []string, error) {
	for _, k := range s.UniqueKey {
		if !hasColumn(new, k) {
			return nil, nil, fmt.Errorf("unique_key: the model returns no column %s", k)
		}
	}
	return SchemaChange(s.Mode, s.Target, old, new)
}

func hasColumn(cols []Column, name string) bool {
	for _, c := range cols {
		if c.Name == name {
			return true
		}
	}
	return false
}

// Merge applies an incremental model's staged rows to its table; its last
// statement's row count is the model's.
type Merge struct {
	op
	Strategy string
	Target   pgname.Rel
	Stage    string
	Key      []string
}

// Steps applies the rows to cols (from AdaptColumns).
func (m Merge) Steps(cols []string) []Step {
	return Incremental(m.Strategy, m.Target, m.Stage, cols, m.Key)
}

// SameDefinition ends the transaction and gives way to Else (with nothing
// changed) unless the materialized view Rel is defined by the model's SQL
// as it stands: a temporary view Probe of the SQL is compared with it.
type SameDefinition struct {
	op
	Rel   pgname.Rel
	Probe string
}

// Create is the probe view.
func (s SameDefinition) Create(body string) string {
	return "create temporary view " + pgname.Ident(s.Probe) + " as\n" + body
}

// Drop drops the probe view.
func (s SameDefinition) Drop() string { return "drop view " + pgname.Ident(s.Probe) }

// ProbeRel is the probe view, in the session's temporary schema.
func (s SameDefinition) ProbeRel() pgname.Rel { return pgname.Rel{Schema: "pg_temp", Name: s.Probe} }

// Refresh refreshes the materialized view Rel: concurrently (readers keep
// reading) when it holds data and has a unique index.
type Refresh struct {
	op
	Rel pgname.Rel
}

// Step is the refresh, given what the database says of the view.
func (r Refresh) Step(populated, unique bool) Step {
	return RefreshMaterializedView(r.Rel, populated && unique)
}

// Analyze says what Finish analyzes.
type Analyze int

const (
	// AnalyzeNone: nothing (no rows changed, or a view).
	AnalyzeNone Analyze = iota
	// AnalyzeAll: the relation (freshly built or refreshed).
	AnalyzeAll
	// AnalyzeLoaded: after an incremental load, what AnalyzeAfterLoad picks.
	AnalyzeLoaded
)

// Finish completes a relation: the configured indexes, statistics, grants
// kept in sync with the config (the database says which privileges it has)
// and the model's description.
type Finish struct {
	op
	On      pgname.Rel
	Kind    string
	Indexes bool
	Analyze Analyze
	// Uncomment removes a description the relation may have.
	Uncomment bool
}

// Steps are the statements that finish f.On, given what to analyze and the
// privileges it has.
func (f Finish) Steps(m Model, analyze []pgname.Rel, have [][2]string) []Step {
	var steps []Step
	if f.Indexes {
		steps = Indexes(f.On, f.On.Name, m.Config.Indexes)
	}
	for _, r := range analyze {
		steps = append(steps, Step{SQL: "analyze " + r.Quoted(), Body: -1})
	}
	steps = append(steps, SyncGrants(f.On, m.Config.Grants, have)...)
	if m.Description != "" {
		steps = append(steps, Comment(f.On, f.Kind, m.Description))
	}
	if f.Uncomment {
		steps = append(steps, Uncomment(f.On, f.Kind))
	}
	return steps
}

// AnalyzeAfterLoad picks what to analyze after an incremental load of rows
// into target, whose rows the planner estimated before the load. Analyzing
// a large table samples all of it (over a second for a few hundred thousand
// rows, every run); like autovacuum, strata analyzes the whole table only
// once the load changed a tenth of it, and otherwise only the partitions
// the load wrote to (autovacuum never analyzes a partitioned table's parent).
func AnalyzeAfterLoad(target pgname.Rel, parts []Partition, rows int64, estimate float64) []pgname.Rel {
	if float64(rows)*10 >= estimate {
		return []pgname.Rel{target}
	}
	var out []pgname.Rel
	for _, p := range parts {
		out = append(out, target.In(pgname.Partition(target.Name, p.Suffix)))
	}
	return out
}

// Swap replaces Target by Temp, a relation of Kind, with the views that
// depend on Target recreated (postgres.Swap); Unlogged: its statements are
// not recorded.
type Swap struct {
	op
	Target, Temp pgname.Rel
	Kind         string
	Unlogged     bool
}

// BuildsIncrementally says whether a model materialized as mat is built by
// applying its new rows to the relation of kind existing that is there.
func BuildsIncrementally(mat, existing string, fullRefresh bool) bool {
	return mat == "incremental" && !fullRefresh && (existing == "table" || existing == "partitioned_table")
}

// PlanModel plans the build of a view, table, incremental or materialized
// view model from its SQL (body) and what was observed.
func PlanModel(m Model, body string, o Observed, fullRefresh bool) (Plan, error) {
	mat := m.Config.Materialized
	switch {
	case BuildsIncrementally(mat, o.Existing, fullRefresh):
		return planIncremental(m, body, o.Existing)
	case mat == "materialized_view" && o.Existing == "materialized_view" && !fullRefresh:
		return planRefresh(m, body, planReplace(m, body, o)), nil
	case mat == "view" && (o.Existing == "" || o.Existing == "view"):
		return planView(m, body, o, planReplace(m, body, o)), nil
	}
	return planReplace(m, body, o), nil
}

// The SQLSTATEs on which a plan gives way to another.
var (
	// create or replace view cannot redefine the view in place: a column
	// would be dropped, renamed or retyped (42P16), or the relation is not
	// a view (42809).
	notInPlace = []string{"42P16", "42809"}
	// The catalog was wrong about the relation a swap replaces: a
	// dependent (2BP01), no such relation (42P01), another kind (42809), or
	// one there (42P07).
	catalogWrong = []string{"2BP01", "42P01", "42809", "42P07"}
)

// The swap lock (pgname.SwapLock) keeps a swap that rewrites dependent views
// from racing with anything else that writes those views. A swap that
// recreates dependents holds it exclusively: it reads the dependents only
// once it holds the lock, so no other swap and no view build changes them in
// between (otherwise it could recreate a view from a definition just
// replaced). A view build holds it shared, so view builds never wait for
// each other. A swap of a relation without dependents takes no lock at all:
// it touches only its own relation and its temporary twin, which nothing
// else in the run writes.
//
// No deadlock: the lock is always the first statement of its transaction, so
// a transaction waiting for it holds nothing anyone else waits for; an
// exclusive holder waits only for table locks held by transactions that do
// not wait for the swap lock (readers, builds under temporary names, swaps
// without dependents).

// planView builds a view in place with create or replace view, which is
// atomic and leaves the views that depend on it, its owner, grants and
// comments alone. Usually that is one round trip: the lock, the view, the
// grants to change and the comment, as one multi-statement transaction.
// When the view cannot be redefined in place, nothing changed, and it is
// built and swapped in (rebuild).
func planView(m Model, body string, o Observed, rebuild Plan) Plan {
	target := m.Rel
	create := Exec{Step: CreateOrReplaceView(target, body), Yield: true}
	lock := Exec{Step: SharedLock(pgname.SwapLock)}
	p := Plan{Kind: "view", Response: "CREATE VIEW", Model: m, Body: body}
	st := o.Target
	if st.Known && (st.Exists || !o.DefaultPrivileges) && !m.hasHooks() && !m.Config.Contract {
		ops := []Op{lock, create}
		for _, s := range append(SyncGrants(target, m.Config.Grants, st.Privileges), syncComment(target, "view", m.Description, st.Comment)...) {
			ops = append(ops, Exec{Step: s})
		}
		p.Txs = []Tx{{Batch: true, Ops: ops, Yield: notInPlace, Else: &rebuild}}
		return p
	}
	p.Txs = []Tx{{Ops: []Op{lock, Hooks{}, Contract{}, create,
		Finish{On: target, Kind: "view", Uncomment: m.Description == "" && (st.Comment != nil || !st.Known)},
		Hooks{Post: true},
	}, Yield: notInPlace, Else: &rebuild}}
	return p
}

// syncComment sets, removes or leaves the description of a relation whose
// comment is now current.
func syncComment(on pgname.Rel, kind, description string, current *string) []Step {
	switch {
	case description != "" && (current == nil || *current != description):
		return []Step{Comment(on, kind, description)}
	case description == "" && current != nil:
		return []Step{Uncomment(on, kind)}
	}
	return nil
}

// planReplace builds the model under a temporary name and swaps it in, in
// two transactions. The first builds the new relation, complete with
// indexes, grants, comment and statistics, while readers still see the old
// one. The second, short, swaps it in.
func planReplace(m Model, body string, o Observed) Plan {
	target := m.Rel
	tmp := target.In(pgname.Temp(target.Name))
	kind := map[string]string{"view": "view", "materialized_view": "materialized_view"}[m.Config.Materialized]
	if kind == "" {
		kind = "table"
	}
	pb := m.Config.PartitionBy
	if kind == "table" && pb != nil && pb.Column != "" {
		kind = "partitioned_table"
	}
	p := Plan{Kind: kind, Response: "SELECT %d", Model: m, Body: body}
	if kind == "view" {
		p.Response = "CREATE VIEW"
	}
	rowsOf := NoCount
	if kind != "view" {
		rowsOf = Rows
	}
	finish := Finish{On: tmp, Kind: kind, Indexes: kind != "view"}
	if kind != "view" {
		finish.Analyze = AnalyzeAll
	}
	build := Tx{Temp: &tmp}
	if leftover := o.Temp; leftover.Known && !o.DefaultPrivileges && kind != "partitioned_table" &&
		len(m.Config.PreHook) == 0 && !m.Config.Contract {
		// One round trip: a fresh relation has no privileges to revoke.
		build.Batch = true
		if leftover.Exists {
			build.Ops = append(build.Ops, Exec{Step: DropIfExists(tmp, leftover.Kind)})
		}
		build.Ops = append(build.Ops, Exec{Step: create(kind, tmp, body), Count: rowsOf})
		for _, s := range finish.Steps(m, analyzed(finish), nil) {
			build.Ops = append(build.Ops, Exec{Step: s})
		}
	} else {
		build.Ops = []Op{Hooks{}, Contract{}, DropLeftover{Rel: tmp}}
		if kind == "partitioned_table" {
			stage := pgname.Stage(target.Name)
			build.Ops = append(build.Ops,
				Exec{Step: Stage(stage, body)},
				Exec{Step: CreatePartitioned(tmp, pgname.Ident(stage), *pb)},
				Partitions{Stage: stage, Parent: tmp, Base: tmp.Name, By: *pb},
				Exec{Step: InsertAll(tmp, pgname.Ident(stage)), Count: Rows})
		} else {
			build.Ops = append(build.Ops, Exec{Step: create(kind, tmp, body), Count: rowsOf})
		}
		build.Ops = append(build.Ops, finish)
	}
	// The renames that follow the swap: indexes and partitions take the final names.
	var renames []Op
	if kind != "view" {
		for _, s := range RenameIndexes(target.Schema, tmp.Name, target.Name, m.Config.Indexes) {
			renames = append(renames, Exec{Step: s})
		}
	}
	if kind == "partitioned_table" {
		renames = append(renames, RenamePartitions{From: tmp, To: target})
	}
	drop := DropIfExists(tmp, kind)
	careful := Tx{Ops: append([]Op{Exec{Step: Lock(pgname.SwapLock)}, Swap{Target: target, Temp: tmp, Kind: kind}}, append(renames, Hooks{Post: true})...), Cleanup: &drop}
	// Without dependents (as the catalog says) the swap is one round trip
	// and takes no lock; the drop has no cascade, so a dependent the catalog
	// did not know about makes PostgreSQL refuse, and the swap is done again
	// the careful way.
	old := o.Target
	if !old.Known || old.HasDependents || len(m.Config.PostHook) > 0 {
		p.Txs = []Tx{build, careful}
		return p
	}
	var ops []Op
	if old.Exists {
		ops = append(ops, Exec{Step: Drop(target, old.Kind)})
	}
	ops = append(ops, Exec{Step: RenameTo(tmp, kind, target.Name)})
	ops = append(ops, renames...)
	// The first two statements are the ones the catalog's word decided.
	for i := 0; i < len(ops) && i < 2; i++ {
		if e, ok := ops[i].(Exec); ok {
			e.Yield = true
			ops[i] = e
		}
	}
	p.Txs = []Tx{build, {Batch: true, Ops: ops, Yield: catalogWrong, Else: &Plan{Kind: kind, Response: p.Response, Model: m, Body: body, Txs: []Tx{careful}}, Cleanup: &drop}}
	return p
}

// create builds rel, a relation of kind, from body.
func create(kind string, rel pgname.Rel, body string) Step {
	switch kind {
	case "view":
		return CreateView(rel, body)
	case "materialized_view":
		return CreateMaterializedView(rel, body)
	}
	return CreateTableAs(rel, body)
}

// analyzed is what f analyzes when that is fixed in advance.
func analyzed(f Finish) []pgname.Rel {
	if f.Analyze == AnalyzeAll {
		return []pgname.Rel{f.On}
	}
	return nil
}

// planIncremental applies the model's new rows to its existing table, of
// kind existing, in one transaction: stage them, adapt the table's columns,
// create the partitions they need, then append, merge or delete+insert.
func planIncremental(m Model, body, existing string) (Plan, error) {
	strategy, err := Strategy(m.Config)
	if err != nil {
		return Plan{}, err
	}
	target := m.Rel
	stage := pgname.Stage(target.Name)
	var key []string
	if strategy != "append" {
		key = m.Config.UniqueKey
	}
	ops := []Op{Hooks{}, Contract{},
		Exec{Step: Stage(stage, body)},
		AdaptColumns{Target: target, Stage: stage, Mode: m.Config.OnSchemaChange, UniqueKey: m.Config.UniqueKey}}
	if pb := m.Config.PartitionBy; pb != nil && pb.Column != "" {
		ops = append(ops, Partitions{Stage: stage, Parent: target, Base: target.Name, By: *pb, IfPartitioned: true})
	}
	for _, s := range StageIndex(stage, key) {
		ops = append(ops, Exec{Step: s})
	}
	ops = append(ops,
		Merge{Strategy: strategy, Target: target, Stage: stage, Key: key},
		Finish{On: target, Kind: "table", Indexes: true, Analyze: AnalyzeLoaded},
		Hooks{Post: true})
	return Plan{Kind: existing, Response: strings.ToUpper(strategy) + " %d", Model: m, Body: body, Txs: []Tx{{Ops: ops}}}, nil
}

// planRefresh refreshes a materialized view in place when its definition is
// unchanged, else rebuilds it.
func planRefresh(m Model, body string, rebuild Plan) Plan {
	target := m.Rel
	return Plan{Kind: "materialized_view", Response: "REFRESH MATERIALIZED VIEW", Model: m, Body: body, Txs: []Tx{{
		Ops: []Op{
			SameDefinition{Rel: target, Probe: pgname.Stage(target.Name)},
			Hooks{},
			Refresh{Rel: target},
			Finish{On: target, Kind: "materialized_view", Indexes: true, Analyze: AnalyzeAll},
			Hooks{Post: true},
		},
		Else: &rebuild,
	}}}
}
