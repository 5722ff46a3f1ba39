package materialize

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"strata/engine/pgname"
)

// SCD2 describes one build of a slowly changing dimension (docs/scd2.md) and
// generates its statements. NewSCD2 resolves the model's config once;
// Staged adds the columns of the staged source, and Update what a later
// build reads of the dimension, each returning a new value: the runner
// stages the model's query into a table (Source), checks it, and then
// applies the set-based statements below in one transaction.
//
// Versions are half-open intervals [valid_from, valid_to); the current version
// of a key has valid_to NULL and is_current true. The change time of a version
// is, per row:
//
//   - strategy timestamp: the row's updated_at (the run's start time when it is
//     NULL, or for a key deleted from the source, which has no updated_at);
//   - strategy check: the run's start time (run_started_at).
//
// A key coming back after a deletion starts at its updated_at if that is
// later than the deletion, else at the run's start time. A change time is
// never earlier than a microsecond after the start of the version it closes,
// so intervals never overlap or run backwards and surrogate keys stay unique,
// even when two runs start within the same second.
type SCD2 struct {
	Target pgname.Rel
	Source pgname.Rel // the staged source (a temporary table)
	// Keys are the unique_key columns; Columns all the source's columns, in
	// order; Compare the columns whose change makes a new version (strategy
	// check: check_cols, or every non-key column of both source and dimension).
	Keys, Columns, Compare []string
	// ByText are the Compare columns the database has no equality for
	// between source and dimension (json, xml, the geometric types, or a type
	// that changed): they are compared by their text.
	ByText []string
	// Carry are the dimension's own columns (not bookkeeping) that a deletion
	// marker copies from the version it closes: every column, including those
	// the source no longer has.
	Carry     []string
	UpdatedAt string // strategy timestamp: the updated_at column; "" for check
	// HardDeletes is ignore, invalidate or new_record.
	HardDeletes  string
	ValidFrom    string
	ValidTo      string
	IsCurrent    string
	SurrogateKey string
	// Markers says the dimension has the deletion flag: it is built under
	// hard_deletes new_record, or was before. In every mode a current marker
	// stands for a deleted key (one back in the source gets a new version),
	// and new versions set the flag false.
	Markers bool
	// RunStartedAt is the change time of check strategy and of deletions.
	RunStartedAt time.Time
	// CheckCols is the check_cols config (strategy check).
	CheckCols []string
	// KeepComment: the model has no description, so a rebuild keeps the
	// comment the dimension has.
	KeepComment bool
	// FullRefresh: the build rebuilds the dimension (--full-refresh).
	FullRefresh bool
	// Dist, on a Citus cluster, is where the dimension goes: a reference
	// table (most dimensions) or distributed; its source is staged placed
	// the same way (Begin).
	Dist *Distribution
	// Beside is how the dimension sits on the Citus cluster when this
	// build updates it there, distributed where its config puts it (nil
	// otherwise): the source is staged in its colocation group
	// (StageSource), since the update joins the two shard by shard, and a
	// new table's shards need not be the dimension's (a shard_count no
	// longer set, citus.shard_count changed since it was built).
	Beside *Placed
}

// NewSCD2 resolves an scd2 model's config, with its defaults, for a build
// that starts at runTS. name is the model's name.
func NewSCD2(m Model, name string, runTS time.Time) SCD2 {
	c := m.Config
	d := SCD2{
		Target:       m.Rel,
		Source:       SCD2Stage(m.Rel),
		Keys:         c.UniqueKey,
		UpdatedAt:    c.UpdatedAt,
		HardDeletes:  c.HardDeletes,
		ValidFrom:    "valid_from",
		ValidTo:      "valid_to",
		IsCurrent:    "is_current",
		SurrogateKey: DefaultSurrogateKey(name),
		RunStartedAt: runTS,
		CheckCols:    c.CheckCols,
		KeepComment:  m.Description == "",
		Dist:         m.Dist,
	}
	if c.Strategy == "check" {
		d.UpdatedAt = ""
	}
	if d.HardDeletes == "" {
		d.HardDeletes = "ignore"
	}
	if sc := c.SCD2Columns; sc != nil {
		for _, p := range []struct {
			dst *string
			v   string
		}{{&d.ValidFrom, sc.ValidFrom}, {&d.ValidTo, sc.ValidTo}, {&d.IsCurrent, sc.IsCurrent}, {&d.SurrogateKey, sc.SurrogateKey}} {
			if p.v != "" {
				*p.dst = p.v
			}
		}
	}
	return d
}

// Staged is the build once its source is staged: cols are the columns of
// the Source table, in order.
func (s SCD2) Staged(cols []Column) SCD2 {
	s.Columns = nil
	for _, c := range cols {
		s.Columns = append(s.Columns, c.Name)
	}
	return s
}

// DefaultSurrogateKey names the surrogate key column of an scd2 model that
// does not name it with scd2_columns.
func DefaultSurrogateKey(model string) string { return model + "_key" }

// IsDeletedColumn is the flag a deletion marker carries under hard_deletes: new_record.
const IsDeletedColumn = "is_deleted"

// Bookkeeping lists the columns strata maintains, which the source must not have.
func (s SCD2) Bookkeeping() []string {
	out := []string{s.SurrogateKey, s.ValidFrom, s.ValidTo, s.IsCurrent}
	if s.HardDeletes == "new_record" {
		out = append(out, IsDeletedColumn)
	}
	return out
}

// workColumns are the columns Changes adds to the source's in its work
// table, which the source therefore must not have.
var workColumns = []string{"strata_closes", "strata_row", "strata_at", "strata_gone"}

// SourceProblem is a problem of an scd2 model's config with its query's
// columns. Key is the config key it is about (unique_key, updated_at,
// check_cols), where it is placed; "" when it is about the query itself.
// Msg starts with the key when there is one.
type SourceProblem struct{ Key, Msg string }

// SourceProblems checks the columns the config names (unique_key,
// updated_at, check_cols) against the source's Columns, and that the
// source has none of the bookkeeping columns: every problem, one per key
// (its missing columns together), each saying what the query has.
func (s SCD2) SourceProblems() []SourceProblem {
	has := func(c string) bool { return slices.Contains(s.Columns, c) }
	queryHas := fmt.Sprintf(" (the query has: %s)", strings.Join(s.Columns, ", "))
	var out []SourceProblem
	missing := func(key string, cols []string) {
		var gone []string
		for _, c := range cols {
			if c != "all" && !has(c) {
				gone = append(gone, fmt.Sprintf("%q", c))
			}
		}
		switch len(gone) {
		case 0:
		case 1:
			out = append(out, SourceProblem{key, fmt.Sprintf("%s: %s is not a column of the model's query%s", key, gone[0], queryHas)})
		default:
			out = append(out, SourceProblem{key, fmt.Sprintf("%s: %s are not columns of the model's query%s", key, strings.Join(gone, ", "), queryHas)})
		}
	}
	if len(s.Keys) == 0 {
		out = append(out, SourceProblem{"unique_key", "an scd2 model needs unique_key (the column or columns that identify a row of the source)"})
	}
	missing("unique_key", s.Keys)
	if s.UpdatedAt != "" {
		missing("updated_at", []string{s.UpdatedAt})
	}
	missing("check_cols", s.CheckCols)
	var query []string // about the query itself: one problem
	for _, b := range s.Bookkeeping() {
		if has(b) {
			query = append(query, fmt.Sprintf("the model's query has a column %q, which strata maintains in an scd2 dimension; rename it, or name the bookkeeping columns with scd2_columns", b))
		}
	}
	for _, w := range workColumns {
		if has(w) {
			query = append(query, fmt.Sprintf("the model's query has a column %q, a name strata uses while it builds an scd2 dimension; rename it", w))
		}
	}
	if len(query) > 0 {
		out = append(out, SourceProblem{"", strings.Join(query, "; ") + queryHas})
	}
	return out
}

// CheckSource is SourceProblems as one error, nil when there is none.
func (s SCD2) CheckSource() error {
	p := s.SourceProblems()
	if len(p) == 0 {
		return nil
	}
	msgs := make([]string, len(p))
	for i, x := range p {
		msgs[i] = x.Msg
	}
	return errors.New(strings.Join(msgs, "; "))
}

// NullKeyError says that n rows of the source have a NULL in the unique key.
func (s SCD2) NullKeyError(n int64) error {
	rows := "rows"
	if n == 1 {
		rows = "row"
	}
	return fmt.Errorf("unique_key (%s) is NULL in %d %s of the source; the dimension was not changed", strings.Join(s.Keys, ", "), n, rows)
}

// DuplicateKeyError names a duplicated unique key (its values as text, as
// DuplicateKey returns them) and how often it appears.
func (s SCD2) DuplicateKeyError(values []*string, n int64) error {
	parts := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		v := "NULL"
		if i < len(values) && values[i] != nil {
			v = *values[i]
		}
		parts[i] = k + "=" + v
	}
	return fmt.Errorf("unique_key is not unique in the source: %s appears %d times; the dimension was not changed", strings.Join(parts, ", "), n)
}

func qualified(alias string, cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = alias + "." + pgname.Ident(c)
	}
	return out
}

func (s SCD2) runTS() string {
	return pgname.Literal(s.RunStartedAt.UTC().Format(time.RFC3339Nano)) + "::timestamptz"
}

// keyMatch joins a to b on the unique key.
func (s SCD2) keyMatch(a, b string) string {
	var parts []string
	for _, k := range s.Keys {
		parts = append(parts, fmt.Sprintf("%s.%s = %s.%s", a, pgname.Ident(k), b, pgname.Ident(k)))
	}
	return strings.Join(parts, " and ")
}

// surrogate is the surrogate key of the version of the key in alias starting at at:
// stable (it is stored, never recomputed) and unique across versions, since a
// key's versions start at different times.
func (s SCD2) surrogate(alias, at string) string {
	return fmt.Sprintf("md5(row(%s)::text || '|' || extract(epoch from %s)::text)", strings.Join(qualified(alias, s.Keys), ", "), at)
}

// when is the change time of a source row in alias.
func (s SCD2) when(alias string) string {
	if s.UpdatedAt == "" {
		return s.runTS()
	}
	return fmt.Sprintf("coalesce(%s.%s::timestamptz, %s)", alias, pgname.Ident(s.UpdatedAt), s.runTS())
}

// SCD2Stage is the staging table of a dimension: an unlogged table beside it,
// created and dropped inside the build's transaction, so nobody else ever sees
// it and a failed build leaves nothing behind. Not a temporary table: those
// live in small per-session buffers and cannot be read by parallel workers.
func SCD2Stage(target pgname.Rel) pgname.Rel {
	return pgname.Rel{Schema: target.Schema, Name: pgname.Source(target.Name)}
}

// Stage copies the model's query into the Source table.
func (s SCD2) Stage(body string) Step {
	prefix := "create unlogged table " + s.Source.Quoted() + " as\nselect * from (\n"
	return Step{SQL: prefix + body + "\n) as strata_source", Body: len([]rune(prefix))}
}

// KeyIndex indexes the staged source on its unique key: one sort checks
// that the key has no duplicate (failing with unique_violation, so the runner
// can name one with DuplicateKey), lets NullKeys find NULLs through the index
// instead of reading the table, and gives the planner the staged row count
// without an ANALYZE.
func (s SCD2) KeyIndex() Step {
	return Step{SQL: fmt.Sprintf("create unique index %s on %s (%s)",
		pgname.Ident(pgname.Suffixed(s.Source.Name, "_key")), s.Source.Quoted(), idents(s.Keys)), Body: -1}
}

// DropStage removes the Source table at the end of a successful build.
func (s SCD2) DropStage() Step { return Step{SQL: "drop table " + s.Source.Quoted(), Body: -1} }

// NullKeys counts the source rows with a NULL in the unique key (which a
// unique index lets through), after KeyIndex.
func (s SCD2) NullKeys() string {
	var conds []string
	for _, k := range s.Keys {
		conds = append(conds, pgname.Ident(k)+" is null")
	}
	return fmt.Sprintf("select count(*) from %s where %s", s.Source.Quoted(), strings.Join(conds, " or "))
}

// DuplicateKey returns the most duplicated unique key of the source, as text,
// then its count; no row when the key is unique. Run only when KeyIndex
// failed, to say why.
func (s SCD2) DuplicateKey() string {
	var texts []string
	for _, k := range s.Keys {
		texts = append(texts, pgname.Ident(k)+"::text")
	}
	return fmt.Sprintf("select %s, count(*) from %s group by %s having count(*) > 1 order by count(*) desc, %s limit 1",
		strings.Join(texts, ", "), s.Source.Quoted(), idents(s.Keys), idents(s.Keys))
}

// Lock serializes the builds of one dimension; it holds until the transaction ends.
func (s SCD2) Lock() Step {
	return Lock(pgname.SCD2Lock(s.Target))
}

// LockTable keeps other writers out of the dimension until commit; readers go on.
func (s SCD2) LockTable() Step {
	return Step{SQL: "lock table " + s.Target.Quoted() + " in share row exclusive mode", Body: -1}
}

// DimensionFillfactor is how full a dimension's pages are written. The room
// left lets a later build close a version in place, on its own page (a HOT
// update that writes no index entry): with 1% of the keys changing per build,
// about five builds fit before a page fills, and the old versions' space is
// reclaimed as pages are pruned. Measured on 1,000,000 keys with 1% changed,
// closing the changed versions took 180 ms this way instead of 430 ms.
const DimensionFillfactor = 90

// Create builds the dimension from the staged source on its first build (into
// rel, the target or a temporary name): every row is current.
func (s SCD2) Create(rel pgname.Rel) Step {
	return Step{SQL: fmt.Sprintf("create table %s with (fillfactor = %d) as\n%s", rel.Quoted(), DimensionFillfactor, s.firstVersions()), Body: -1}
}

// firstVersions selects the staged source as current versions.
func (s SCD2) firstVersions() string {
	at := s.when("s")
	cols := []string{s.surrogate("s", at) + " as " + pgname.Ident(s.SurrogateKey)}
	cols = append(cols, qualified("s", s.Columns)...)
	cols = append(cols,
		at+" as "+pgname.Ident(s.ValidFrom),
		"null::timestamptz as "+pgname.Ident(s.ValidTo),
		"true as "+pgname.Ident(s.IsCurrent))
	if s.HardDeletes == "new_record" {
		cols = append(cols, "false as "+pgname.Ident(IsDeletedColumn))
	}
	return fmt.Sprintf("select %s\nfrom %s as s", strings.Join(cols, ",\n  "), s.Source.Quoted())
}

// CreateOn is Create on a Citus cluster: the dimension is created empty,
// distributed (or made a reference table) as Dist says, then filled.
func (s SCD2) CreateOn(rel pgname.Rel) []Op {
	return []Op{
		Exec{Step: Step{SQL: fmt.Sprintf("create table %s with (fillfactor = %d) as\n%s\nwith no data", rel.Quoted(), DimensionFillfactor, s.firstVersions()), Body: -1}},
		Distribute{Rel: rel, Dist: *s.Dist},
		Exec{Step: Step{SQL: fmt.Sprintf("insert into %s\n%s", rel.Quoted(), s.firstVersions()), Body: -1}},
	}
}

// distributed says whether the dimension is sharded on a Citus cluster.
func (s SCD2) distributed() bool { return s.Dist != nil && !s.Dist.Reference }

// Indexes are the dimension's own indexes: unique surrogate keys, and the
// key's history, unique on (key, valid_from) since a key's versions start at
// different times. No index covers valid_to or is_current, so that closing a
// version is a HOT update (no index entry written) wherever the page has room,
// which DimensionFillfactor leaves. That one version per key is current is
// kept by the set-based build (and the example project tests it).
func (s SCD2) Indexes() []Step {
	t := s.Target
	sk := pgname.Ident(s.SurrogateKey)
	if s.distributed() {
		// Citus enforces a unique index within a shard, so it must hold
		// the distribution column.
		sk = pgname.Ident(s.Dist.Column) + ", " + sk
	}
	return []Step{
		{SQL: fmt.Sprintf("create unique index %s on %s (%s)", pgname.Ident(s.SurrogateKeyIndex()), t.Quoted(), sk), Body: -1},
		{SQL: fmt.Sprintf("create unique index %s on %s (%s, %s)", pgname.Ident(s.HistoryIndex()), t.Quoted(), idents(s.Keys), pgname.Ident(s.ValidFrom)), Body: -1},
	}
}

// HistoryIndex names the index on (unique key, valid_from), which also
// records the key the dimension was built with.
func (s SCD2) HistoryIndex() string { return pgname.Suffixed(s.Target.Name, "__scd2_history_uidx") }

// SurrogateKeyIndex names the dimension's unique index on the surrogate key.
func (s SCD2) SurrogateKeyIndex() string { return pgname.Suffixed(s.Target.Name, "__scd2_key_uidx") }

// AddColumn adds a column the source gained; the existing versions get NULL.
func (s SCD2) AddColumn(name, typ string) Step {
	return Step{SQL: fmt.Sprintf("alter table %s add column %s %s", s.Target.Quoted(), pgname.Ident(name), typ), Body: -1}
}

// AddIsDeleted adds the deletion flag to a dimension switched to hard_deletes: new_record.
func (s SCD2) AddIsDeleted() Step {
	return Step{SQL: fmt.Sprintf("alter table %s add column %s boolean not null default false", s.Target.Quoted(), pgname.Ident(IsDeletedColumn)), Body: -1}
}

// changesTable holds the source rows that start a new version.
const changesTable = "strata_scd2_changes"

func (s SCD2) changed() string {
	if s.UpdatedAt != "" {
		u := pgname.Ident(s.UpdatedAt)
		return fmt.Sprintf("(s.%s > d.%s or (d.%s is null and s.%s is not null))", u, u, u, u)
	}
	if len(s.Compare) == 0 {
		return "false"
	}
	return s.distinct(s.Compare)
}

// distinct compares cols of s and d as a row with IS DISTINCT FROM, so that
// NULL to NULL is no change; the ByText columns as text.
func (s SCD2) distinct(cols []string) string {
	side := func(alias string) string {
		q := qualified(alias, cols)
		for i, c := range cols {
			if slices.Contains(s.ByText, c) {
				q[i] += "::text"
			}
		}
		return strings.Join(q, ", ")
	}
	return fmt.Sprintf("row(%s) is distinct from row(%s)", side("s"), side("d"))
}

// CompareProbe plans, without reading a row, the comparison of cols between
// the staged source and the dimension: it fails when the database has no
// equality for one of them (SQLSTATE 42883), which the runner then compares
// by text (ByText).
func (s SCD2) CompareProbe(cols []string) string {
	return fmt.Sprintf("select %s from %s as s, %s as d where false", s.distinct(cols), s.Source.Quoted(), s.Target.Quoted())
}

// Changes collects, in one pass over the source and the current versions,
// what this build changes: source rows that need a new version (new keys,
// keys coming back after a deletion, changed keys) and, unless hard_deletes
// is ignore, current versions whose key left the source (strata_gone); each
// with the surrogate key and the row (ctid) of the version it closes (NULL for
// new keys) and its change time. The row stays put until Close: the
// dimension is locked against other writers (LockTable) and nothing else
// updates it before.
func (s SCD2) Changes() Step {
	at := []string{s.when("s"), fmt.Sprintf("d.%s + interval '1 microsecond'", pgname.Ident(s.ValidFrom))}
	// A key with no current version may be back after a deletion (under
	// invalidate, in this mode or an earlier one): it starts at its
	// updated_at if that is later than the deletion, else when this run saw
	// it come back, and never before the deletion's end: the run's start time
	// has whole seconds and is taken before the lock, so it can be earlier.
	at = append(at, fmt.Sprintf("case when d.%s is null then (select case when max(h.%s) >= %s then greatest(%s, max(h.%s) + interval '1 microsecond') end from %s as h where %s) end",
		pgname.Ident(s.SurrogateKey), pgname.Ident(s.ValidTo), s.when("s"), s.runTS(), pgname.Ident(s.ValidTo), s.Target.Quoted(), s.keyMatch("h", "s")))
	marker := "d." + pgname.Ident(IsDeletedColumn) + " is true" // NULL in rows from before the flag was kept in every mode
	if s.Markers {
		// Back after a deletion marker: the marker's start plus a
		// microsecond at least (above), or this run's start.
		at = append(at, fmt.Sprintf("case when %s and d.%s >= %s then %s end", marker, pgname.Ident(s.ValidFrom), s.when("s"), s.runTS()))
	}
	// The unique key has no NULL in the source, so a NULL key means no source row.
	gone := "s." + pgname.Ident(s.Keys[0]) + " is null"
	changed := []string{"d." + pgname.Ident(s.SurrogateKey) + " is null"}
	if s.Markers {
		changed = append(changed, marker)
	}
	changed = append(changed, s.changed())
	join, where := "left join", fmt.Sprintf("(%s)", strings.Join(changed, " or "))
	if s.HardDeletes != "ignore" {
		join = "full join"
		del := gone
		if s.Markers {
			del += " and not (" + marker + ")"
		}
		where = fmt.Sprintf("(%s)\n   or (not %s and %s)", del, gone, where)
	}
	// A row's ctid finds the version to close in one step; on Citus a
	// reference table's copies (and a distributed table's shards) number
	// their rows each their own way, so Close matches the surrogate key.
	row := "ctid"
	if s.Dist != nil {
		row = "null::tid"
	}
	return Step{SQL: fmt.Sprintf(`create temporary table %s on commit drop as
select s.*, d.%s as strata_closes, d.strata_row, greatest(%s) as strata_at, %s as strata_gone
from %s as s
%s (select %s as strata_row, * from %s where %s) as d on %s
where %s`,
		pgname.Ident(changesTable), pgname.Ident(s.SurrogateKey), strings.Join(at, ", "), gone,
		s.Source.Quoted(), join, row, s.Target.Quoted(), pgname.Ident(s.IsCurrent), s.keyMatch("d", "s"), where), Body: -1}
}

// ParallelChanges returns the statements that bracket Changes: before it and
// after it. Under hard_deletes ignore, Changes is a left join, which
// PostgreSQL 15 can run on several cores (a full join it cannot). The planner
// cannot tell how few joined rows pass the change test; it charges every
// one for passing through a Gather and keeps the join on one core. A Gather
// tuple cost of 0, for this one statement, lets it choose the parallel hash
// join: on 1,000,000 keys with 1% changed, 1.43-1.56 s instead of 1.65-1.71 s
// for the whole update on two cores. The setting the transaction had (a
// pre-hook may have set it) is put back after. Both are nil for the other modes.
func (s SCD2) ParallelChanges() (before, after []Step) {
	if s.HardDeletes != "ignore" {
		return nil, nil
	}
	return []Step{{SQL: "select set_config('strata.parallel_tuple_cost', current_setting('parallel_tuple_cost'), true), set_config('parallel_tuple_cost', '0', true)", Body: -1}},
		[]Step{{SQL: "select set_config('parallel_tuple_cost', current_setting('strata.parallel_tuple_cost'), true)", Body: -1}}
}

// AnalyzeChanges gives the planner the size of the change set.
func (s SCD2) AnalyzeChanges() Step {
	return Step{SQL: "analyze " + pgname.Ident(changesTable), Body: -1}
}

// CountGone counts the keys Changes found deleted from the source.
func (s SCD2) CountGone() string {
	return "select count(*) from " + pgname.Ident(changesTable) + " where strata_gone"
}

// Close ends the versions replaced or deleted, as collected by Changes. It
// finds them by row (a TID scan of the few rows that change) rather than
// joining the whole dimension on the surrogate key.
func (s SCD2) Close() Step {
	if s.Dist != nil {
		// The changes are a local table, which Citus reads in an update of
		// its tables only through a subquery.
		return Step{SQL: fmt.Sprintf(`update %s as d set %s = c.strata_at, %s = false
from (select strata_closes, strata_at from %s where strata_closes is not null) as c
where d.%s = c.strata_closes`,
			s.Target.Quoted(), pgname.Ident(s.ValidTo), pgname.Ident(s.IsCurrent), pgname.Ident(changesTable), pgname.Ident(s.SurrogateKey)), Body: -1}
	}
	return Step{SQL: fmt.Sprintf(`update %s as d set %s = c.strata_at, %s = false
from %s as c
where d.ctid = any(array(select strata_row from %s where strata_row is not null))
  and d.ctid = c.strata_row`,
		s.Target.Quoted(), pgname.Ident(s.ValidTo), pgname.Ident(s.IsCurrent), pgname.Ident(changesTable), pgname.Ident(changesTable)), Body: -1}
}

// Insert adds the new current versions collected by Changes.
func (s SCD2) Insert() Step {
	cols := append([]string{s.SurrogateKey}, s.Columns...)
	cols = append(cols, s.ValidFrom, s.ValidTo, s.IsCurrent)
	vals := []string{s.surrogate("c", "c.strata_at")}
	vals = append(vals, qualified("c", s.Columns)...)
	vals = append(vals, "c.strata_at", "null", "true")
	if s.Markers {
		cols = append(cols, IsDeletedColumn)
		vals = append(vals, "false")
	}
	// In key order, so that the history index's entries of a leaf page go
	// in together: on a dimension larger than the buffer cache that reads and
	// dirties a fraction of the pages that changes in random order would.
	return Step{SQL: fmt.Sprintf("insert into %s (%s)\nselect %s\nfrom %s as c\nwhere not c.strata_gone\norder by %s",
		s.Target.Quoted(), idents(cols), strings.Join(vals, ", "), pgname.Ident(changesTable), strings.Join(qualified("c", s.Keys), ", ")), Body: -1}
}

// InsertDeleted adds, under hard_deletes: new_record, a current deletion
// marker for each key Changes found deleted: the closed version's values with
// is_deleted true. Run after Close.
func (s SCD2) InsertDeleted() Step {
	cols := append([]string{s.SurrogateKey}, s.Carry...)
	cols = append(cols, s.ValidFrom, s.ValidTo, s.IsCurrent, IsDeletedColumn)
	vals := []string{s.surrogate("d", "x.strata_at")}
	vals = append(vals, qualified("d", s.Carry)...)
	vals = append(vals, "x.strata_at", "null", "true", "true")
	// The closed versions moved when Close updated them: find them through
	// the surrogate key's index, not by joining the whole dimension.
	sk := pgname.Ident(s.SurrogateKey)
	return Step{SQL: fmt.Sprintf(`insert into %s (%s)
select %s
from %s as x
join %s as d on d.%s = x.strata_closes
where x.strata_gone
  and d.%s = any(array(select strata_closes from %s where strata_gone))`,
		s.Target.Quoted(), idents(cols), strings.Join(vals, ", "), pgname.Ident(changesTable), s.Target.Quoted(), sk, sk, pgname.Ident(changesTable)), Body: -1}
}

// SCD2Path is what a build does with the dimension.
type SCD2Path int

const (
	// SCD2Create builds the dimension from scratch: its first build, or a
	// rebuild (--full-refresh) that drops its history.
	SCD2Create SCD2Path = iota
	// SCD2Update applies a later build.
	SCD2Update
)

// Path decides what the build does, now that the dimension's name holds a
// relation of kind ("" for none).
func (s SCD2) Path(kind string, fullRefresh bool) (SCD2Path, error) {
	switch {
	case kind == "" || fullRefresh:
		return SCD2Create, nil
	case kind != "table":
		return 0, notADimension(s.Target, strings.ReplaceAll(kind, "_", " "))
	}
	return SCD2Update, nil
}

// Refused is what a build refuses, before it changes anything, of the
// dimension where a relation of kind stands ("" for none) with what it
// reads of it (o): what Path refuses, then what Update does. For strata
// check, which builds nothing but must refuse what a build would; nil when
// a build would go ahead (a first build, or a rebuild: FullRefresh).
func (s SCD2) Refused(kind string, o SCD2Observed) error {
	path, err := s.Path(kind, s.FullRefresh)
	if err != nil || path != SCD2Update {
		return err
	}
	_, _, err = s.Staged(o.Source).Update(o)
	return err
}

// notADimension refuses to build an scd2 model over what another
// materialization built; it is about the materialized: key, which changed.
func notADimension(target pgname.Rel, kind string) error {
	return fmt.Errorf("materialized: %s is a %s, not an scd2 dimension; drop it, or rebuild it with --full-refresh --full-refresh-scd2", target, kind)
}

// Begin is what a build does first: the lock, memory for the key check (it
// sorts the whole source) and the one join of a later build (it hashes it),
// for this transaction only, the pre_hook, and the staged source.
//
// On a Citus cluster, the source is staged placed like the dimension (a
// reference table, or distributed the same way: created empty, placed,
// filled), so that the build's join of the two runs on the workers, shard
// by shard, and never joins a local table with a Citus one. A rebuild
// (FullRefresh) swaps the dimension in with the views on it recreated,
// which Citus allows only in a transaction that has run nothing in
// parallel: it runs sequentially throughout (SequentialMode).
func (s SCD2) Begin(body string) []Op {
	return append(s.Prelude(), s.StageSource(body)...)
}

// Prelude is Begin up to the staged source: the lock, the settings and
// the pre_hook. A build reads how the dimension is placed after it
// (Beside), before StageSource.
func (s SCD2) Prelude() []Op {
	ops := []Op{
		Exec{Step: s.Lock()},
		// A leftover of an older strata, which built it in another
		// transaction: stale, since this build holds the lock.
		Exec{Step: DropIfExists(s.Source, "table")},
	}
	ops = append(ops, citusSettings(s.Dist, s.FullRefresh)...)
	return append(ops,
		Exec{Step: Step{SQL: "set local work_mem = '256MB'", Body: -1}},
		Exec{Step: Step{SQL: "set local maintenance_work_mem = '256MB'", Body: -1}},
		Hooks{})
}

// StageSource is the rest of Begin: the model's query staged, on a Citus
// cluster placed like the dimension (beside it, when Beside says where
// it is).
func (s SCD2) StageSource(body string) []Op {
	if s.Dist == nil {
		return []Op{Exec{Step: s.Stage(body), Count: Staged}}
	}
	stage := Distribute{Rel: s.Source, Dist: *s.Dist}
	if s.Beside != nil {
		target := s.Target
		stage.Beside, stage.BesideAt = &target, s.Beside
	}
	prefix := "create unlogged table " + s.Source.Quoted() + " as (\n"
	return []Op{
		Exec{Step: Step{SQL: prefix + body + "\n) with no data", Body: len([]rune(prefix))}},
		stage,
		Exec{Step: InsertQuery(s.Source, body), Count: Staged}}
}

// End drops the staged source and runs the post_hook.
func (s SCD2) End() []Op { return []Op{Exec{Step: s.DropStage()}, Hooks{Post: true}} }

// Build builds the dimension from scratch, where a relation of kind ("" for
// none) stands: under a temporary name swapped in (under the swap lock)
// when it is a rebuild, so that the views that depend on the dimension are
// kept. Then its indexes,
// statistics (downstream models read it right away), grants and comment.
func (s SCD2) Build(kind string) []Op {
	create := func(rel pgname.Rel) []Op {
		if s.Dist != nil {
			return s.CreateOn(rel)
		}
		return []Op{Exec{Step: s.Create(rel)}}
	}
	var ops []Op
	if kind == "" {
		ops = append(ops, create(s.Target)...)
	} else {
		tmp := s.Target.In(pgname.Temp(s.Target.Name))
		ops = append(ops, Exec{Step: DropIfExists(tmp, "table")})
		ops = append(ops, create(tmp)...)
		// Under the swap lock, as any swap that recreates views: another
		// build's swap may recreate the same ones (a view over two
		// dimensions rebuilt side by side).
		ops = append(ops, Exec{Step: Lock(pgname.SwapLock)},
			Swap{Target: s.Target, Temp: tmp, Kind: "table", KeepComment: s.KeepComment, Unlogged: true})
	}
	for _, st := range s.Indexes() {
		ops = append(ops, Exec{Step: st})
	}
	return append(ops, Finish{On: s.Target, Kind: "table", Indexes: true, Analyze: AnalyzeAll})
}

// SCD2Observed is what a later build reads before it changes the dimension.
type SCD2Observed struct {
	// Source and Dimension are the columns of the staged source and of the
	// dimension, in order, with their types.
	Source, Dimension []Column
	// HistoryKey are the columns of the dimension's HistoryIndex, which
	// records the key it was built with; none when it has no such index.
	HistoryKey []string
}

// Update plans a later build of the dimension: it refuses a dimension not
// built with this config, and returns the build and its ops: columns the
// source gained are added, the deletion flag when hard_deletes is new_record,
// then the changes are collected, versions closed and inserted, and the
// dimension finished (grants and comment kept in sync with the config; later
// builds change too little to need statistics before autovacuum comes).
// The ops start after LockTable.
func (s SCD2) Update(o SCD2Observed) (SCD2, []Op, error) {
	have := map[string]string{} // column: type
	for _, c := range o.Dimension {
		have[c.Name] = c.Type
	}
	kept := []string{s.SurrogateKey, s.ValidFrom, s.ValidTo, s.IsCurrent}
	// A table with none of the columns strata keeps and no history index
	// was built by another materialization: materialized: changed, not
	// scd2_columns.
	if len(o.HistoryKey) == 0 && !slices.ContainsFunc(kept, func(b string) bool { _, ok := have[b]; return ok }) {
		return s, nil, notADimension(s.Target, "table")
	}
	for _, b := range kept {
		if _, ok := have[b]; !ok {
			return s, nil, fmt.Errorf("scd2_columns: %s has no column %q, so it is not an scd2 dimension built with this config; rebuild it with --full-refresh --full-refresh-scd2, which drops its history", s.Target, b)
		}
	}
	// The dimension's is_deleted is strata's deletion flag unless the model's
	// query has a column of that name (which hard_deletes new_record refuses):
	// then it is the user's.
	_, flag := have[IsDeletedColumn]
	s.Markers = flag && !slices.Contains(s.Columns, IsDeletedColumn)
	if err := s.sameKey(o.HistoryKey); err != nil {
		return s, nil, err
	}
	if err := s.sameTypes(o.Source, have); err != nil {
		return s, nil, err
	}
	var ops []Op
	dim := slices.Clone(o.Dimension)
	// A column new in the source is added; the versions before it get NULL.
	for _, c := range o.Source {
		if _, ok := have[c.Name]; !ok {
			ops = append(ops, Exec{Step: s.AddColumn(c.Name, c.Type)})
			dim = append(dim, c)
			have[c.Name] = c.Type
		}
	}
	if s.HardDeletes == "new_record" && !s.Markers {
		ops = append(ops, Exec{Step: s.AddIsDeleted()})
		s.Markers = true
	}
	book := append(s.Bookkeeping(), IsDeletedColumn)
	s.Carry = nil
	for _, c := range dim {
		if !slices.Contains(book, c.Name) {
			s.Carry = append(s.Carry, c.Name)
		}
	}
	s.Compare = nil
	if cc := s.CheckCols; len(cc) > 0 && !slices.Contains(cc, "all") {
		s.Compare = cc
	} else {
		for _, c := range s.Columns {
			if !slices.Contains(s.Keys, c) {
				s.Compare = append(s.Compare, c)
			}
		}
	}
	if s.UpdatedAt == "" && len(s.Compare) > 0 {
		ops = append(ops, CompareByText{Build: s})
	}
	before, after := s.ParallelChanges()
	for _, st := range before {
		ops = append(ops, Exec{Step: st})
	}
	ops = append(ops, Changes{Build: s})
	for _, st := range after {
		ops = append(ops, Exec{Step: st})
	}
	ops = append(ops, Exec{Step: s.AnalyzeChanges()})
	if s.HardDeletes != "ignore" {
		ops = append(ops, Count{SQL: s.CountGone(), Into: Deleted})
	}
	ops = append(ops, Exec{Step: s.Close(), Count: Closed}, Exec{Step: s.Insert()})
	if s.HardDeletes == "new_record" {
		ops = append(ops, Exec{Step: s.InsertDeleted(), Count: Markers})
	}
	return s, append(ops, Finish{On: s.Target, Kind: "table", Indexes: true}), nil
}

// UpdateResult is the row count and the response of a later build, from
// the counts its ops kept.
func UpdateResult(c map[Counter]int64) (int64, string) {
	inserted := c[Inserted] - c[Deleted]
	closed := c[Closed] - c[Deleted]
	return inserted + c[Markers], fmt.Sprintf("SCD2 %d new, %d changed, %d deleted", inserted-closed, closed, c[Deleted])
}

// sameKey refuses a unique_key other than the one the dimension was built
// with, which its history index records (built): with another key every
// entity would get a second current version. A dimension without that
// index (dropped by hand) is not checked.
func (s SCD2) sameKey(built []string) error {
	if len(built) == 0 {
		return nil
	}
	want := append(slices.Clone(s.Keys), s.ValidFrom)
	if slices.Equal(built, want) {
		return nil
	}
	was := built
	if len(was) > 0 && was[len(was)-1] == s.ValidFrom {
		was = was[:len(was)-1]
	}
	return fmt.Errorf("unique_key: %s was built with unique_key (%s) but the config now says (%s); with another key every entity would get a second current version. Keep the key, or rebuild the dimension with --full-refresh --full-refresh-scd2, which drops its history",
		s.Target, strings.Join(was, ", "), strings.Join(s.Keys, ", "))
}

// sameTypes refuses source columns whose type differs from the
// dimension's, all of them in one error: their values would be cast into
// the old type (losing precision, or failing), and then differ from the
// source again at every build.
func (s SCD2) sameTypes(src []Column, dim map[string]string) error {
	var changed []string
	for _, c := range src {
		if t, ok := dim[c.Name]; ok && t != c.Type {
			changed = append(changed, fmt.Sprintf("%q is %s in the dimension but %s in the model's query", c.Name, t, c.Type))
		}
	}
	if len(changed) == 0 {
		return nil
	}
	return fmt.Errorf("column types changed since %s was built: %s. Cast them in the model to the dimension's types, change the dimension's columns (alter table ... alter column ... type ...), or rebuild it with --full-refresh --full-refresh-scd2, which drops its history",
		s.Target, strings.Join(changed, "; "))
}

// WithByText is the build with the Compare columns the database has no
// equality for (see CompareByText).
func (s SCD2) WithByText(cols []string) SCD2 {
	s.ByText = cols
	return s
}

// CheckKeys refuses a source whose unique key has a NULL or a duplicate,
// before the dimension is touched: the unique index KeyIndex, under a
// savepoint, checks for duplicates in one sort, and NULLs are then found
// through it (NullKeys); only when the index fails does DuplicateKey run,
// to name a duplicated key.
type CheckKeys struct {
	op
	Build SCD2
}

// keySavepoint is what the key check can roll back to.
const keySavepoint = "strata_scd2_keys"

// Savepoint starts the key check.
func (CheckKeys) Savepoint() Step { return Step{SQL: "savepoint " + keySavepoint, Body: -1} }

// Rollback returns to the savepoint after the index failed.
func (CheckKeys) Rollback() Step { return Step{SQL: "rollback to " + keySavepoint, Body: -1} }

// CompareByText finds the compared columns the database has no equality for
// between source and dimension: one probe of them all, planned without
// reading a row, and only when it fails (SQLSTATE 42883) one per column,
// each under a savepoint, since a failed statement aborts the transaction.
type CompareByText struct {
	op
	Build SCD2
}

const compareSavepoint = "strata_scd2_compare"

// Probe is the savepoint and the probe of cols.
func (c CompareByText) Probe(cols []string) []Step {
	return []Step{{SQL: "savepoint " + compareSavepoint, Body: -1}, {SQL: c.Build.CompareProbe(cols), Body: -1}}
}

// Undo ends the probe: back to the savepoint when it failed, then released.
func (CompareByText) Undo(failed bool) []Step {
	undo := []Step{{SQL: "release " + compareSavepoint, Body: -1}}
	if failed {
		undo = append([]Step{{SQL: "rollback to " + compareSavepoint, Body: -1}}, undo...)
	}
	return undo
}

// Changes runs Build's Changes with the ByText columns CompareByText found;
// its row count is Inserted.
type Changes struct {
	op
	Build SCD2
}

// Count reads a count with a query and keeps it.
type Count struct {
	op
	SQL  string
	Into Counter
}

// CreateResult is the row count and the response of a build from scratch,
// from the counts its ops kept; rebuilt: the dimension was there
// (--full-refresh), and its history is dropped.
func CreateResult(c map[Counter]int64, rebuilt bool) (int64, string) {
	response := fmt.Sprintf("SCD2 %d new", c[Staged])
	if rebuilt {
		response += " (rebuilt: history dropped)"
	}
	return c[Staged], response
}
