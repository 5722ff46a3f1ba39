package materialize

import (
	"fmt"
	"slices"
	"strings"

	"strata/engine/pgname"
	"strata/engine/project"
)

// Model is what a plan needs to know of a model: its relation, config and
// description, and whether its error-severity tests audit it (Audit).
type Model struct {
	Rel         pgname.Rel
	Config      project.Config
	Description string
	// Audit: the model's new version is tested before it replaces the old
	// one (write-audit-publish, docs/tests.md), by the op Audit.
	Audit bool
	// Dist, on a Citus cluster, is where the model's table goes; nil on a
	// server without Citus, or for a model that stays on the coordinator.
	Dist *Distribution
	// Unread: no model of the project reads the relation (only tests, or
	// nothing). A table built anew is then not analyzed: for a small table
	// that costs as much as building it, and no model's plan needs its
	// statistics; autovacuum gathers them within its naptime.
	Unread bool
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
	// Privileges are held by roles other than the owner.
	Privileges    []Privilege
	Comment       *string
	HasDependents bool // a view or materialized view reads it
	// Carry: besides its privileges and comment, the relation has what a
	// swap must carry over to its new version and only reads in the
	// database: another owner, row-level security, column comments.
	Carry bool
}

// Observed is what the run knows of the database when it plans a model.
type Observed struct {
	// Existing is the kind of relation the model's name holds now ("" for
	// none): the catalog's word, or the database's where the choice between
	// building in place and rebuilding depends on it.
	Existing string
	// Target is the model's relation and Temp its temporary twin (a leftover
	// of a build by an earlier version of strata, if it exists).
	Target, Temp State
	// Leftovers are the other relations under names strata builds the
	// model's scratch relations with (pgname.Source) that exist: stale, as
	// a build leaves none behind.
	Leftovers []Leftover
	// Placed, on a Citus cluster, is how the model's existing table sits
	// there; nil elsewhere, or when the name holds no table.
	Placed *Placed
	// With, on a Citus cluster, is how the table the model's colocate_with
	// names sits there; nil without colocate_with.
	With *Placed
}

// Leftover is a stale scratch relation of a model and its kind.
type Leftover struct {
	Rel  pgname.Rel
	Kind string
}

// A Plan is how a model is built: one transaction, made of parts run in
// order, so that a failure, a cancel or a kill at any point leaves the
// database as it was. It is made from the model and what was observed
// before the build; what the transaction reads on the way (columns,
// partitions, privileges) goes into the methods of the ops, which write the
// statements that follow.
type Plan struct {
	// Kind is the kind of relation the model is once the plan ran.
	Kind string
	// Response says what was done; %d in it stands for Rows.
	Response string
	// Did is what the build did to the relation, as the run's output
	// says it before the model's kind ("created", "merged into",
	// "appended to", ...): a load into an existing table did not create it.
	Did   string
	Model Model
	Body  string // the model's SQL
	Parts []Part
}

// Part is a stretch of a plan's transaction. The runner sends a part's
// statements in as few round trips as the reads between them allow (one
// when there are none).
type Part struct {
	Ops []Op
	// Yield: when an Exec marked Yield fails with one of these SQLSTATEs,
	// the part is undone, and Else runs in its place: for the first part,
	// the transaction is rolled back and Else is a plan of its own; for a
	// later one, the transaction goes back to a savepoint taken when the
	// part began, and Else's parts replace this part and those after it.
	Yield []string
	Else  *Plan
	// Publish: the part takes the locks that the readers of the model's
	// relation hold it back from (it swaps or redefines the relation). It
	// runs under a short lock_timeout; when a lock is not granted in time,
	// it is undone (as for Yield) and tried again after a pause, while the
	// readers go on (postgres.LockPolicy).
	Publish bool
}

// Op is one thing a transaction does: Exec, Hooks, Contract, DropLeftover,
// Partitions, PartitionColumn, RenamePartitions, KeyColumns, AdaptColumns, Merge, SameDefinition,
// Refresh, Finish, CreateIndexes, Swap, Audit, Distribute, and for scd2 CheckKeys, CompareByText,
// Changes and Count.
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
	// Updated: the rows a Citus reference table's merge updated (its
	// insert's are Rows).
	Updated
)

func (c Counter) String() string {
	return [...]string{"none", "rows", "staged", "inserted", "closed", "markers", "deleted", "updated"}[c]
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
// periods of the rows in the temporary table Stage. IfPartitioned (an
// incremental load): first check, with SamePartitioning, that the database
// says Parent is partitioned as By says.
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

// PartitionColumn checks, before a partitioned table is created like the
// staged rows in the temporary table Stage, that they have By's column, of
// a type partition_by can split into periods (PartitionColumnError).
type PartitionColumn struct {
	op
	Stage string
	By    project.PartitionBy
}

// StageRel is the staged rows' table, in the session's temporary schema.
func (p PartitionColumn) StageRel() pgname.Rel { return pgname.Rel{Schema: "pg_temp", Name: p.Stage} }

// RenamePartitions gives the partitions Partitions created under From's
// name, and their indexes (PartitionIndexes), the names they have under
// To's.
type RenamePartitions struct {
	op
	From, To pgname.Rel
	Indexes  []project.Index
}

// Steps renames the partitions found and their indexes.
func (r RenamePartitions) Steps(parts []Partition) []Step {
	var out []Step
	for _, p := range parts {
		from, to := pgname.Partition(r.From.Name, p.Suffix), pgname.Partition(r.To.Name, p.Suffix)
		out = append(out, RenameTo(r.From.In(from), "table", to))
		out = append(out, RenameIndexes(r.To.Schema, from, to, r.Indexes)...)
	}
	return out
}

// KeyColumns checks, once the first table of an incremental model with a
// unique_key is built (On), that it has each key column, as every later
// load needs (AdaptColumns): a key the query does not return fails the
// first build too, rather than leave a table no load can use.
type KeyColumns struct {
	op
	On        pgname.Rel
	UniqueKey []string
}

// UniqueKeyColumnsError says which unique_key columns the query does not
// return (cols), or nil.
func UniqueKeyColumnsError(key []string, cols []Column) error {
	var missing []string
	for _, k := range key {
		if !hasColumn(cols, k) {
			missing = append(missing, fmt.Sprintf("%q", k))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	what := "no column"
	if len(missing) > 1 {
		what = "no columns"
	}
	return fmt.Errorf("unique_key: the model's query returns %s %s (it has: %s); an incremental load finds the table's rows by unique_key: return the column, or set unique_key to columns the query returns", what, strings.Join(missing, ", "), strings.Join(names, ", "))
}

// AdaptColumns compares the columns of an incremental model's table with
// those of its staged new rows, per on_schema_change (SchemaChange).
type AdaptColumns struct {
	op
	Target    pgname.Rel
	Stage     string
	Mode      string
	UniqueKey []string
	// Matches: the strategy finds the table's rows by UniqueKey (merge,
	// delete+insert), so each key column must be one the table has.
	Matches bool
	// DistributedBy is the table's distribution column on a Citus cluster
	// ("" elsewhere, or for a reference table): Citus does not drop or
	// retype it.
	DistributedBy string
}

// StageRel is the staged rows' table, in the session's temporary schema.
func (s AdaptColumns) StageRel() pgname.Rel { return pgname.Rel{Schema: "pg_temp", Name: s.Stage} }

// Steps checks the unique key against the new rows and the table, and
// returns the statements that adapt the table, and the columns to write. A
// key column the table lacks (a key renamed in the query) is refused
// whatever on_schema_change says: added to the table, it would be NULL in
// every existing row, so the merge or delete would find none of them and
// every new row would be written again beside its old version.
// canCast says whether PostgreSQL has a cast from one type to another
// (postgres.CanCast; nil: it is not asked, and has one): sync_all_columns
// alters a retyped column with one (using x::newtype), so without it the
// column is refused, as it can only be rebuilt, and a fix that is a cast
// is given only where there is one.
func (s AdaptColumns) Steps(old, new []Column, canCast func(from, to string) (bool, error)) ([]Step, []string, error) {
	cast := func(from, to string) (bool, error) {
		if canCast == nil {
			return true, nil
		}
		return canCast(from, to)
	}
	if err := UniqueKeyColumnsError(s.UniqueKey, new); err != nil {
		return nil, nil, err
	}
	if s.Matches {
		var missing []string
		for _, k := range s.UniqueKey {
			if !hasColumn(old, k) {
				missing = append(missing, fmt.Sprintf("%q", k))
			}
		}
		if len(missing) > 0 {
			return nil, nil, fmt.Errorf("unique_key: %s has no column %s (the model returns it, but the table was built without it), so no existing row could be matched by the key and every row would be written again beside its old version; rebuild the table with --full-refresh, or return the key under the column name the table has",
				s.Target, strings.Join(missing, ", "))
		}
	}
	if d := s.DistributedBy; d != "" && s.Mode == "sync_all_columns" {
		was, now := typeOf(old, d), typeOf(new, d)
		switch {
		case was != "" && now == "":
			return nil, nil, fmt.Errorf("on_schema_change: sync_all_columns would drop column %s, but it is the distribution column of %s (distributed_by), which Citus does not drop: return it from the model, or distribute the table by another column and rebuild it with --full-refresh", d, s.Target)
		case was != "" && now != was:
			back, err := cast(now, was)
			if err != nil {
				return nil, nil, err
			}
			if !back {
				return nil, nil, fmt.Errorf("on_schema_change: sync_all_columns would change column %s from %s to %s, but it is the distribution column of %s (distributed_by), which Citus does not retype, and PostgreSQL has no cast from %s back to %s: rebuild the table with --full-refresh",
					d, was, now, s.Target, now, was)
			}
			return nil, nil, fmt.Errorf("on_schema_change: sync_all_columns would change column %s from %s to %s, but it is the distribution column of %s (distributed_by), which Citus does not retype: cast it back in the model (%s::%s), or rebuild the table with --full-refresh",
				d, was, now, s.Target, pgname.Ident(d), was)
		}
	}
	if s.Mode == "sync_all_columns" {
		// Each retyped column is altered with a cast of the values the
		// table has (using x::newtype): without one, only a rebuild
		// changes it.
		for _, c := range new {
			was := typeOf(old, c.Name)
			if was == "" || was == c.Type {
				continue
			}
			ok, err := cast(was, c.Type)
			if err != nil {
				return nil, nil, err
			}
			if !ok {
				return nil, nil, fmt.Errorf("on_schema_change: sync_all_columns would change column %s of %s from %s to %s, but PostgreSQL has no cast from %s to %s for the values the table has, so the column has to be rebuilt: rebuild the table with --full-refresh",
					c.Name, s.Target, was, c.Type, was, c.Type)
			}
		}
	}
	return SchemaChange(s.Mode, s.Target, old, new)
}

// typeOf is the type of column name in cols, "" when there is none.
func typeOf(cols []Column, name string) string {
	for _, c := range cols {
		if c.Name == name {
			return c.Type
		}
	}
	return ""
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
	// From, when set, is where the rows are read instead of Stage (a
	// relation, quoted): on Citus, a distributed copy of them.
	From string
	// Reference: Target is a Citus reference table (ReferenceIncremental).
	Reference bool
	// Query: Stage is a view of the model's query (Direct), which the
	// statement runs; an error in it is the query's.
	Query bool
}

// Steps applies the rows to cols (from AdaptColumns).
func (m Merge) Steps(cols []string) []Step {
	from := pgname.Ident(m.Stage)
	if m.From != "" {
		from = m.From
	}
	if m.Reference {
		return ReferenceIncremental(m.Strategy, m.Target, from, cols, m.Key)
	}
	return Incremental(m.Strategy, m.Target, from, cols, m.Key)
}

// SameDefinition gives way to its part's Else (nothing changed) unless the
// materialized view Rel is defined by the model's SQL as it stands: a
// temporary view Probe of the SQL is compared with it.
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

// SameColumns gives way to its part's Else (nothing changed yet) unless
// the table Target has the columns of the staged rows in Stage: the same
// names and types, in the same order.
type SameColumns struct {
	op
	Target pgname.Rel
	Stage  string
}

// StageRel is the staged rows' table, in the session's temporary schema.
func (s SameColumns) StageRel() pgname.Rel { return pgname.Rel{Schema: "pg_temp", Name: s.Stage} }

// Same compares the columns the database gave.
func (s SameColumns) Same(target, stage []Column) bool { return slices.Equal(target, stage) }

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

// Finish completes a relation: the configured indexes (on a partitioned
// table, on each partition first: PartitionIndexes), statistics, the
// privileges config grants that it lacks, and the model's description.
type Finish struct {
	op
	On      pgname.Rel
	Kind    string
	Indexes bool
	Analyze Analyze
	// Have, when Known, are the privileges On has: none for a relation
	// just built, the catalog's for one built in place; else the database
	// is asked.
	Have KnownPrivileges
}

// KnownPrivileges are the privileges of a relation, if they are known.
type KnownPrivileges struct {
	Known bool
	List  []Privilege
}

// Fresh is what a relation just built holds: nothing.
var Fresh = KnownPrivileges{Known: true}

// Steps are the statements that finish f.On, given what to analyze, the
// privileges it has, and the partitions of a partitioned table.
func (f Finish) Steps(m Model, analyze []pgname.Rel, have []Privilege, parts []Partition) []Step {
	var steps []Step
	if f.Indexes {
		steps = CreateIndexes{On: f.On, Kind: f.Kind}.Steps(m, parts)
	}
	for _, r := range analyze {
		steps = append(steps, Step{SQL: "analyze " + r.Quoted(), Body: -1})
	}
	steps = append(steps, GrantMissing(f.On, m.Config.Grants, have)...)
	if m.Description != "" {
		steps = append(steps, Comment(f.On, f.Kind, m.Description))
	}
	return steps
}

// ReadsIndexTypes says whether f finishes the model's own relation, which
// the build kept (not one it built), with the indexes an earlier build
// made, some of which config lists: their types are read and compared with
// config's (IndexTypeChanged).
func (f Finish) ReadsIndexTypes(m Model) bool {
	return f.Indexes && f.On == m.Rel && len(m.Config.Indexes) > 0
}

// CreateIndexes creates the model's configured indexes on On, a relation
// of Kind: on a partitioned table, on each partition first
// (PartitionIndexes), named so that a swap renames them.
type CreateIndexes struct {
	op
	On   pgname.Rel
	Kind string
}

// Steps creates the indexes, given the partitions of a partitioned table.
func (c CreateIndexes) Steps(m Model, parts []Partition) []Step {
	var steps []Step
	if c.Kind == "partitioned_table" {
		steps = PartitionIndexes(c.On.Schema, c.On.Name, parts, m.Config.Indexes)
	}
	return append(steps, Indexes(c.On, c.On.Name, m.Config.Indexes)...)
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
// depend on Target recreated and what is held on Target carried over to
// Temp (postgres.Swap); KeepComment: the old comment too (the model has no
// description). Unlogged: its statements are not recorded.
type Swap struct {
	op
	Target, Temp pgname.Rel
	Kind         string
	KeepComment  bool
	Unlogged     bool
}

// Audit runs the tests that audit the model (its error-severity data
// tests) against On, the new version, inside the build's transaction; a
// failing one ends the build before anything is published (docs/tests.md#write-audit-publish).
type Audit struct {
	op
	On pgname.Rel
}

// BuildsIncrementally says whether a model materialized as mat is built by
// applying its new rows to the relation of kind existing that is there.
func BuildsIncrementally(mat, existing string, fullRefresh bool) bool {
	return mat == "incremental" && !fullRefresh && (existing == "table" || existing == "partitioned_table")
}

// SCD2Replaced is the error of a model the target's state records as last
// built as an scd2 dimension, whose table is still there, and whose config
// now makes it materialized mat: building it would drop its history, which
// only --full-refresh-scd2 does.
func SCD2Replaced(rel pgname.Rel, mat string) error {
	return fmt.Errorf("materialized: %s is an scd2 dimension (it was last built with materialized: scd2), and building it with materialized: %s would lose its history; add --full-refresh-scd2 to do that, or set materialized: scd2 again", rel, mat)
}

// PlanModel plans the build of a view, table, incremental or materialized
// view model from its SQL (body) and what was observed.
func PlanModel(m Model, body string, o Observed, fullRefresh bool) (Plan, error) {
	mat := m.Config.Materialized
	switch {
	case BuildsIncrementally(mat, o.Existing, fullRefresh):
		if err := SamePlacement(m, o.Placed, o.With); err != nil {
			return Plan{}, err
		}
		return planIncremental(m, body, o)
	case mat == "materialized_view" && o.Existing == "materialized_view" && !fullRefresh && !m.Audit:
		return planRefresh(m, body, o, planReplace(m, body, o)), nil
	case mat == "view" && (o.Existing == "" || o.Existing == "view") && !m.Audit:
		return planView(m, body, o, planReplace(m, body, o)), nil
	case mat == "view" && (o.Existing == "" || o.Existing == "view"):
		return planAuditedView(m, body, o), nil
	case mat == "table" && m.Config.Swap == "truncate_insert" && o.Existing == "table" && (m.Config.PartitionBy == nil || m.Config.PartitionBy.Column == "") && placedAsConfigured(m, o):
		return planInPlace(m, body, o, planReplace(m, body, o)), nil
	}
	return planReplace(m, body, o), nil
}

// planInPlace replaces a table's rows in place (swap: truncate_insert):
// the new rows are staged, then, in the same transaction, the old rows are
// deleted and the new ones inserted. Readers never wait, and a reader whose
// snapshot predates the build (REPEATABLE READ) keeps reading the old rows,
// where a swapped-in table would look empty to it. It is slower (every row
// is written twice, and the deleted ones wait for vacuum), and the table
// keeps its identity: its owner, grants, policies and the views on it stay
// as they are. When the model's columns changed, the table is rebuilt and
// swapped in instead.
// placedAsConfigured says whether the model's existing table sits on the
// Citus cluster where its config puts it (Wanted), as a replace in place
// (swap: truncate_insert) keeps it; always off Citus. A table placed
// otherwise is rebuilt and swapped in, which moves it.
func placedAsConfigured(m Model, o Observed) bool {
	if o.Placed == nil {
		return true
	}
	_, _, ok := Wanted(m.Dist, *o.Placed, o.With)
	return ok
}

func planInPlace(m Model, body string, o Observed, rebuild Plan) Plan {
	target := m.Rel
	stage := pgname.Stage(target.Name)
	ops := append(buildLock(m, o), dropTemp(target.In(pgname.Temp(target.Name)), o.Temp)...)
	ops = append(ops, Hooks{}, Contract{},
		Exec{Step: Stage(stage, body)},
		SameColumns{Target: target, Stage: stage},
		// DELETE, not TRUNCATE: TRUNCATE is not MVCC-safe (a snapshot
		// taken before it sees the table empty) and waits for every reader.
		Exec{Step: Step{SQL: "delete from " + target.Quoted(), Body: -1}},
		Exec{Step: InsertAll(target, pgname.Ident(stage)), Count: Rows},
		Finish{On: target, Kind: "table", Indexes: true, Analyze: AnalyzeAll, Have: KnownPrivileges{Known: o.Target.Known, List: o.Target.Privileges}},
		Hooks{Post: true})
	if m.Audit {
		// After the post_hook, which may change the rows.
		ops = append(ops, Audit{On: target})
	}
	return Plan{Kind: "table", Response: "DELETE+INSERT %d", Did: "replaced the rows of", Model: m, Body: body, Parts: []Part{{Ops: ops, Else: &rebuild}}}
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

// The locks of a build.
//
// The build lock (pgname.BuildLock) is the first statement of every
// model's transaction: two builds of one relation (by two projects on one
// database; runs of one project already wait for each other) never
// interleave, and a build may drop the stale scratch relations of its
// model (Observed.Leftovers), which no other build is writing.
//
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
// No deadlock lasts: the locks a swap or a view build waits for are taken
// in its Publish part, under a short lock_timeout, so a build that waits
// for another (which holds, from the first part of its transaction, locks
// on what its query read) gives up its attempt, goes back to its savepoint
// (releasing what that attempt took) and tries again after a pause.

// buildLock starts every model's transaction; then the stale scratch
// relations of the model are dropped.
func buildLock(m Model, o Observed) []Op {
	ops := []Op{Exec{Step: Lock(pgname.BuildLock(m.Rel))}}
	for _, l := range o.Leftovers {
		ops = append(ops, Exec{Step: DropIfExists(l.Rel, l.Kind)})
	}
	return ops
}

// dropTemp drops a leftover of the model's temporary twin: by the catalog's
// word, or after asking the database.
func dropTemp(tmp pgname.Rel, st State) []Op {
	switch {
	case !st.Known:
		return []Op{DropLeftover{Rel: tmp}}
	case st.Exists:
		return []Op{Exec{Step: DropIfExists(tmp, st.Kind)}}
	}
	return nil
}

// planView builds a view in place with create or replace view, which is
// atomic and leaves the views that depend on it, its owner, grants and
// comments alone. Usually that is one round trip: the locks, the view, the
// grants config adds and the comment, as one transaction. When the view
// cannot be redefined in place, nothing changed, and it is built and
// swapped in (rebuild).
func planView(m Model, body string, o Observed, rebuild Plan) Plan {
	target := m.Rel
	create := Exec{Step: CreateOrReplaceView(target, body), Yield: true}
	p := Plan{Kind: "view", Response: "CREATE VIEW", Did: Created, Model: m, Body: body}
	st := o.Target
	ops := append(buildLock(m, o), dropTemp(target.In(pgname.Temp(target.Name)), o.Temp)...)
	ops = append(ops, Exec{Step: SharedLock(pgname.SwapLock)})
	if st.Known && !m.hasHooks() && !m.Config.Contract {
		ops = append(ops, create)
		for _, s := range append(GrantMissing(target, m.Config.Grants, st.Privileges), syncComment(target, "view", m.Description, st.Comment)...) {
			ops = append(ops, Exec{Step: s})
		}
	} else {
		have := KnownPrivileges{Known: st.Known, List: st.Privileges}
		ops = append(ops, Hooks{}, Contract{}, create, Finish{On: target, Kind: "view", Have: have}, Hooks{Post: true})
	}
	p.Parts = []Part{{Ops: ops, Yield: notInPlace, Else: &rebuild, Publish: true}}
	return p
}

// syncComment sets the description of a relation whose comment is now
// current, unless it is that already. A relation of a model without a
// description keeps what it has (a comment written by hand).
func syncComment(on pgname.Rel, kind, description string, current *string) []Step {
	if description != "" && (current == nil || *current != description) {
		return []Step{Comment(on, kind, description)}
	}
	return nil
}

// planAuditedView builds an audited view: under its temporary name, where
// its tests read it; then it is redefined in place (as planView does) or,
// when that cannot be, the new view is swapped in.
func planAuditedView(m Model, body string, o Observed) Plan {
	target := m.Rel
	tmp := target.In(pgname.Temp(target.Name))
	p := Plan{Kind: "view", Response: "CREATE VIEW", Did: Created, Model: m, Body: body}
	build := append(buildLock(m, o), dropTemp(tmp, o.Temp)...)
	build = append(build, Hooks{}, Contract{}, Exec{Step: CreateView(tmp, body)},
		Finish{On: tmp, Kind: "view", Have: Fresh}, Audit{On: tmp})
	st := o.Target
	have := KnownPrivileges{Known: st.Known, List: st.Privileges}
	swap := Plan{Kind: "view", Response: p.Response, Did: Created, Model: m, Body: body, Parts: []Part{careful(m, o, tmp, "view", nil)}}
	publish := []Op{Exec{Step: SharedLock(pgname.SwapLock)}, Exec{Step: CreateOrReplaceView(target, body), Yield: true}}
	if st.Known {
		for _, s := range append(GrantMissing(target, m.Config.Grants, st.Privileges), syncComment(target, "view", m.Description, st.Comment)...) {
			publish = append(publish, Exec{Step: s})
		}
	} else {
		publish = append(publish, Finish{On: target, Kind: "view", Have: have})
	}
	publish = append(publish, Exec{Step: Drop(tmp, "view")})
	p.Parts = []Part{{Ops: build}, {Ops: publish, Yield: notInPlace, Else: &swap, Publish: true}}
	return withPostHooks(p)
}

// withPostHooks ends p (and what it gives way to) with the post_hook, in
// a part of its own after the swap.
func withPostHooks(p Plan) Plan {
	if len(p.Model.Config.PostHook) == 0 {
		return p
	}
	for i, part := range p.Parts {
		if part.Else != nil && i > 0 {
			e := withPostHooks(*part.Else)
			p.Parts[i].Else = &e
		}
	}
	post := []Op{Hooks{Post: true}}
	if p.Model.Audit && auditsAfterPostHooks(p.Model, p.Kind) {
		post = append(post, Audit{On: p.Model.Rel})
	}
	p.Parts = append(p.Parts, Part{Ops: post})
	return p
}

// auditsAfterPostHooks says whether a model built as kind and swapped in
// is audited after its post_hook (in the swap's transaction, once the new
// relation has its name) rather than under its scratch name before the
// swap: a post_hook may change the rows, and the tests must read those
// that are published. A view holds no rows to change.
func auditsAfterPostHooks(m Model, kind string) bool {
	return len(m.Config.PostHook) > 0 && kind != "view"
}

// careful is the part that swaps tmp into place the way that needs no
// knowledge of the database: under the swap lock, reading the views that
// depend on the old relation and what is held on it (postgres.Swap).
func careful(m Model, o Observed, tmp pgname.Rel, kind string, renames []Op) Part {
	ops := []Op{Exec{Step: Lock(pgname.SwapLock)}, Swap{Target: m.Rel, Temp: tmp, Kind: kind, KeepComment: m.Description == ""}}
	return Part{Ops: append(ops, renames...), Publish: true}
}

// planReplace builds the model under a temporary name and swaps it in, in
// one transaction. Its first part builds the new relation, complete with
// indexes, grants, comment and statistics, while readers still see the old
// one, and audits it; the second, short, swaps it in.
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
	p := Plan{Kind: kind, Response: "SELECT %d", Did: Created, Model: m, Body: body}
	if kind == "view" {
		p.Response = "CREATE VIEW"
	}
	rowsOf := NoCount
	if kind != "view" {
		rowsOf = Rows
	}
	finish := Finish{On: tmp, Kind: kind, Indexes: kind != "view", Have: Fresh}
	if kind != "view" && !m.Unread {
		finish.Analyze = AnalyzeAll
	}
	// On Citus, a swap that recreates the views on the old table needs the
	// whole transaction to run sequentially (SequentialMode), from its
	// start: the catalog says whether there are views to recreate, and
	// when it does not know, there may be.
	// The views on a table of the cluster's (distributed or reference) are
	// Citus's too, whatever the new table is: a table that moves to the
	// coordinator needs it as well.
	sequential := !o.Target.Known || o.Target.HasDependents
	build := append(buildLock(m, o), citusSettings(m.Dist, sequential)...)
	if m.Dist == nil && sequential && o.Placed != nil && o.Placed.Method != "local" {
		build = append(build, Exec{Step: SequentialMode()})
	}
	build = append(build, Hooks{}, Contract{})
	build = append(build, dropTemp(tmp, o.Temp)...)
	if m.Dist != nil {
		build = append(build, citusBuild(m, body, tmp, kind)...)
		finish.Indexes = false
	} else if kind == "partitioned_table" {
		stage := pgname.Stage(target.Name)
		build = append(build,
			Exec{Step: Stage(stage, body)},
			PartitionColumn{Stage: stage, By: *pb},
			Exec{Step: CreatePartitioned(tmp, pgname.Ident(stage), *pb)},
			Partitions{Stage: stage, Parent: tmp, Base: tmp.Name, By: *pb},
			Exec{Step: InsertAll(tmp, pgname.Ident(stage)), Count: Rows})
	} else {
		build = append(build, Exec{Step: create(kind, tmp, body), Count: rowsOf})
	}
	if m.Config.Materialized == "incremental" && len(m.Config.UniqueKey) > 0 {
		build = append(build, KeyColumns{On: tmp, UniqueKey: m.Config.UniqueKey})
	}
	build = append(build, finish)
	if m.Audit && !auditsAfterPostHooks(m, kind) {
		build = append(build, Audit{On: tmp})
	}
	// The renames that follow the swap: indexes and partitions take the final names.
	var renames []Op
	if kind != "view" {
		for _, s := range RenameIndexes(target.Schema, tmp.Name, target.Name, m.Config.Indexes) {
			renames = append(renames, Exec{Step: s})
		}
	}
	if kind == "partitioned_table" {
		renames = append(renames, RenamePartitions{From: tmp, To: target, Indexes: m.Config.Indexes})
	}
	slow := careful(m, o, tmp, kind, renames)
	// By the catalog's word, the swap is one round trip that takes no
	// advisory lock: drop the old relation (without cascade, so a dependent
	// the catalog did not know about makes PostgreSQL refuse, and the swap
	// is done again the careful way), rename the new one into place, and
	// grant on it what was held on the old one.
	old := o.Target
	if !old.Known || old.HasDependents || old.Carry {
		p.Parts = []Part{{Ops: build}, slow}
		return withPostHooks(p)
	}
	var ops []Op
	if old.Exists {
		ops = append(ops, Exec{Step: Drop(target, old.Kind), Yield: true})
	}
	ops = append(ops, Exec{Step: RenameTo(tmp, kind, target.Name), Yield: true})
	ops = append(ops, renames...)
	for _, s := range Carry(target, kind, old.Privileges, old.Comment, m.Description == "", m.Config.Grants) {
		ops = append(ops, Exec{Step: s})
	}
	instead := Plan{Kind: kind, Response: p.Response, Did: Created, Model: m, Body: body, Parts: []Part{slow}}
	p.Parts = []Part{{Ops: build}, {Ops: ops, Yield: catalogWrong, Else: &instead, Publish: true}}
	return withPostHooks(p)
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

// planIncremental applies the model's new rows to its existing table, of
// kind existing, in one transaction: stage them, adapt the table's columns,
// create the partitions they need, then append, merge or delete+insert; an
// audit reads the table as the load left it.
func planIncremental(m Model, body string, o Observed) (Plan, error) {
	strategy, err := Strategy(m.Config)
	if err != nil {
		return Plan{}, err
	}
	if err := SamePartitioning(m.Rel, m.Config.PartitionBy, o.Existing, "", nil); err != nil {
		return Plan{}, err
	}
	if !Direct(m, strategy) {
		return incrementalPlan(m, body, o, strategy, false), nil
	}
	p := incrementalPlan(m, body, o, strategy, true)
	staged := incrementalPlan(m, body, o, strategy, false)
	p.Parts[0].Yield, p.Parts[0].Else = []string{"0A000"}, &staged
	return p, nil
}

// incrementalPlan is the plan of planIncremental, with the rows read
// directly from the query or staged (Direct).
func incrementalPlan(m Model, body string, o Observed, strategy string, direct bool) Plan {
	target := m.Rel
	stage := pgname.Stage(target.Name)
	var key []string
	if strategy != "append" {
		key = m.Config.UniqueKey
	}
	ops := append(buildLock(m, o), dropTemp(target.In(pgname.Temp(target.Name)), o.Temp)...)
	ops = append(ops, citusSettings(m.Dist, false)...)
	ops = append(ops, Hooks{}, Contract{})
	if direct {
		// Yield: a query a view cannot hold (a data-modifying WITH) is
		// staged instead.
		ops = append(ops, Exec{Step: StageView(stage, body), Yield: true})
	} else {
		ops = append(ops, Exec{Step: Stage(stage, body)})
	}
	adapt := AdaptColumns{Target: target, Stage: stage, Mode: m.Config.OnSchemaChange, UniqueKey: m.Config.UniqueKey, Matches: strategy != "append"}
	if m.Dist != nil && !m.Dist.Reference {
		adapt.DistributedBy = m.Dist.Column
	}
	ops = append(ops, adapt)
	finish := Finish{On: target, Kind: "table", Indexes: true, Analyze: AnalyzeLoaded, Have: KnownPrivileges{Known: o.Target.Known, List: o.Target.Privileges}}
	if m.Dist != nil {
		// As for a build (citusBuild): the indexes before the parallel work.
		ops = append(ops, citusIndexes(target, m)...)
		finish.Indexes = false
	}
	if pb := m.Config.PartitionBy; pb != nil && pb.Column != "" {
		ops = append(ops, Partitions{Stage: stage, Parent: target, Base: target.Name, By: *pb, IfPartitioned: true})
	}
	merge := Merge{Strategy: strategy, Target: target, Stage: stage, Key: key, Query: direct}
	var after []Op
	if m.Dist != nil {
		// Citus merges into a distributed table only from a colocated one,
		// and writes a reference table from a Citus table only: the staged
		// rows move into one placed like the target, beside it. (Into a
		// reference table, Citus has no MERGE: ReferenceIncremental.)
		cs, temp := CitusStage(target), pgname.Rel{Schema: "pg_temp", Name: stage}.Quoted()
		dist := Distribution{Column: m.Dist.Column, Reference: m.Dist.Reference, Colocate: &target, ColocateName: target.String(), Where: m.Dist.Where, What: m.Dist.What}
		if dist.Reference {
			dist.Colocate, dist.ColocateName = nil, ""
		}
		ops = append(ops,
			Exec{Step: Step{SQL: fmt.Sprintf("create table %s (like %s)", cs.Quoted(), temp), Body: -1}},
			Distribute{Rel: cs, Dist: dist},
			Exec{Step: InsertAll(cs, temp)})
		merge.From, merge.Reference = cs.Quoted(), m.Dist.Reference
		after = []Op{Exec{Step: Step{SQL: "drop table " + cs.Quoted(), Body: -1}}}
	} else if direct {
		// Dropped before anything else touches the table: the view holds
		// the columns of it that the query reads.
		after = []Op{Exec{Step: Step{SQL: "drop view " + pgname.Ident(stage), Body: -1}}}
	} else {
		for _, s := range StageIndex(stage, key) {
			ops = append(ops, Exec{Step: s})
		}
	}
	ops = append(ops, merge)
	ops = append(ops, after...)
	ops = append(ops, finish, Hooks{Post: true})
	if m.Audit {
		// After the post_hook, which may change the rows.
		ops = append(ops, Audit{On: target})
	}
	return Plan{Kind: o.Existing, Response: strings.ToUpper(strategy) + " %d", Did: loaded[strategy], Model: m, Body: body, Parts: []Part{{Ops: ops}}}
}

// Created is a Plan's Did when the relation was built anew: a first
// build, every build of a table, a view defined, a --full-refresh.
const Created = "created"

// loaded is the Did of an incremental model's load into its existing
// table, by strategy.
var loaded = map[string]string{"merge": "merged into", "append": "appended to", "delete+insert": "loaded into"}

// Direct says whether an incremental model's new rows go from its query
// straight into the table, in one statement that reads the query (`merge
// into t using (query)`, `insert into t select ...`), as a person would
// type it. The query is named by a temporary view, so that its columns can
// be compared with the table's first (on_schema_change) without running it.
// A batch with two rows for one key that is in the table fails the build
// in that same statement, as from a staged table (a merge cannot update a
// row twice).
//
// The rows are staged in a temporary table first (indexed on the key and
// analyzed) only where something must read them before they are written,
// or read them twice:
//   - partition_by: the partitions their periods need are created first;
//   - on_schema_change append_new_columns or sync_all_columns: the table is
//     altered before the rows are written, and a view of a query that reads
//     {{ this }} would hold the very columns that are altered or dropped;
//   - delete+insert: the delete and the insert both read the rows;
//   - Citus (distributed or reference table): the rows move into a table
//     placed like the target first (Citus merges only from a colocated one);
//   - a query a view cannot hold (a data-modifying WITH): the direct plan
//     gives way to the staged one.
func Direct(m Model, strategy string) bool {
	if m.Dist != nil || strategy == "delete+insert" {
		return false
	}
	if pb := m.Config.PartitionBy; pb != nil && pb.Column != "" {
		return false
	}
	switch m.Config.OnSchemaChange {
	case "", "ignore", "fail":
		return true
	}
	return false
}

// planRefresh refreshes a materialized view in place when its definition is
// unchanged, else rebuilds it.
func planRefresh(m Model, body string, o Observed, rebuild Plan) Plan {
	target := m.Rel
	first := append(buildLock(m, o), dropTemp(target.In(pgname.Temp(target.Name)), o.Temp)...)
	first = append(first, SameDefinition{Rel: target, Probe: pgname.Stage(target.Name)}, Hooks{})
	return Plan{Kind: "materialized_view", Response: "REFRESH MATERIALIZED VIEW", Did: "refreshed", Model: m, Body: body, Parts: []Part{
		{Ops: first, Else: &rebuild},
		{Ops: []Op{Refresh{Rel: target}}, Publish: true},
		{Ops: []Op{
			Finish{On: target, Kind: "materialized_view", Indexes: true, Analyze: AnalyzeAll, Have: KnownPrivileges{Known: o.Target.Known, List: o.Target.Privileges}},
			Hooks{Post: true},
		}},
	}}
}
