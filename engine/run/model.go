package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"strata/engine/pgname"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/manifest"
	"strata/engine/materialize"
)

// The swap lock keeps a swap that rewrites dependent views from racing with
// anything else that writes those views. A swap that recreates dependents
// holds it exclusively: it reads the dependents only once it holds the lock,
// so no other swap and no view build changes them in between (otherwise it
// could recreate a view from a definition just replaced). A view build holds
// it shared, so view builds never wait for each other. A swap of a relation
// without dependents takes no lock at all: it touches only its own relation
// and its temporary twin, which nothing else in the run writes.
//
// No deadlock: the lock is always the first statement of its transaction, so
// a transaction waiting for it holds nothing anyone else waits for; an
// exclusive holder waits only for table locks held by transactions that do
// not wait for the swap lock (readers, builds under temporary names, swaps
// without dependents).
var (
	swapLock     = materialize.Lock(pgname.SwapLock)
	swapLockView = materialize.SharedLock(pgname.SwapLock)
)

// builder builds one model and records every statement it sends, for target/run/.
type builder struct {
	e        *Executor
	n        *manifest.Node
	cat      *catalog
	executed []string
	rows     int64
	response string
}

func (b *builder) exec(ctx context.Context, q postgres.Querier, s materialize.Step) (int64, error) {
	b.executed = append(b.executed, s.SQL)
	ct, err := q.Exec(ctx, s.SQL)
	if err != nil {
		return 0, b.stepError(s, err)
	}
	return ct.RowsAffected(), nil
}

// stepError names what failed: the model's SQL placed in its compiled file,
// or the first line of a statement strata wrote.
func (b *builder) stepError(s materialize.Step, err error) error {
	if s.Body >= 0 {
		return b.e.sqlError(b.n, err, s)
	}
	return fmt.Errorf("%s: %w", firstLine(s.SQL), postgres.Explain(err, s.SQL, 0))
}

// batch sends steps in one round trip, as one transaction (see
// postgres.ExecBatch). failed is the index of the step that failed, or -1.
func (b *builder) batch(ctx context.Context, steps []materialize.Step) (tags []pgconn.CommandTag, failed int, err error) {
	stmts := make([]string, len(steps))
	for i, s := range steps {
		stmts[i] = s.SQL
	}
	b.executed = append(b.executed, stmts...)
	conn, err := b.e.DB.Pool.Acquire(ctx)
	if err != nil {
		return nil, -1, err
	}
	defer conn.Release()
	tags, err = postgres.ExecBatch(ctx, conn.Conn().PgConn(), stmts)
	var be *postgres.BatchError
	if errors.As(err, &be) {
		return tags, be.Index, b.stepError(steps[be.Index], be.Err)
	}
	return tags, -1, err
}

// rollback replaces, in the record of executed statements, the statements
// from mark on (a transaction that was rolled back) with a note, so target/run/
// still replays to what strata built.
func (b *builder) rollback(mark int, why string) {
	b.executed = append(b.executed[:mark], "-- rolled back: "+strings.ReplaceAll(why, "\n", " ")+"\n-- then:")
}

func (b *builder) run(ctx context.Context, q postgres.Querier, steps ...materialize.Step) error {
	for _, s := range steps {
		if _, err := b.exec(ctx, q, s); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) hooks(ctx context.Context, q postgres.Querier, which string, hooks []string) error {
	return b.e.runHooks(ctx, q, b.n, which, hooks, func(ctx context.Context, q postgres.Querier, s materialize.Step) error {
		_, err := b.exec(ctx, q, s)
		return err
	})
}

func (e *Executor) model(ctx context.Context, n *manifest.Node) Result {
	start := time.Now()
	r := Result{Started: start, Relation: n.Relation.String()}
	mat := n.Config.Materialized
	if mat == "ephemeral" {
		sql, err := e.render(n, false)
		if err != nil {
			return fail(r, err)
		}
		r.Compiled, _ = e.writeSQL(n, sql, nil)
		r.Status, r.Response = Success, "ephemeral, inlined where used"
		return r
	}
	if mat == "scd2" {
		return e.scd2(ctx, n, r)
	}
	switch mat {
	case "view", "table", "incremental", "materialized_view":
	default:
		return fail(r, fmt.Errorf("materialized: %s is not built by this version of strata", mat))
	}
	if err := e.ensureSchema(ctx, n.Relation.Schema); err != nil {
		return fail(r, err)
	}
	cat, err := e.catalog(ctx)
	if err != nil {
		return fail(r, err)
	}
	target := n.Relation
	state := cat.get(target)
	existing := state.Kind
	if mat == "incremental" || mat == "materialized_view" || !state.known {
		// Whether to build incrementally or refresh is decided on what is
		// there now, not on what was there when the run started.
		if existing, err = postgres.RelKind(ctx, e.DB.Pool, target); err != nil {
			return fail(r, err)
		}
	}
	incremental := mat == "incremental" && !e.FullRefresh && (existing == "table" || existing == "partitioned_table")
	sql, err := e.render(n, incremental)
	if err != nil {
		return fail(r, err)
	}
	body := materialize.Body(sql, e.Empty)
	b := &builder{e: e, n: n, cat: cat}
	kind := mat
	switch {
	case incremental:
		kind = existing
		err = b.incremental(ctx, body)
	case mat == "materialized_view" && existing == "materialized_view" && !e.FullRefresh:
		var done bool
		if done, err = b.refresh(ctx, body); err == nil && !done {
			kind, err = b.replace(ctx, body, mat)
		}
	case mat == "view" && (existing == "" || existing == "view"):
		var done bool
		if done, err = b.view(ctx, body, state); err == nil && !done {
			kind, err = b.replace(ctx, body, mat)
		}
	default:
		kind, err = b.replace(ctx, body, mat)
	}
	r.Compiled, r.Executed = e.writeSQL(n, sql, b.executed)
	if err != nil {
		return fail(r, err)
	}
	cat.built(target, kind)
	if kind == "view" || kind == "materialized_view" {
		for _, id := range n.DependsOn {
			if p := e.M.Nodes[id]; p != nil && p.Relation.Name != "" {
				cat.readBy(p.Relation)
			}
		}
	}
	r.Status = Success
	r.Rows = b.rows
	r.Response = b.response
	r.Duration = time.Since(start)
	return r
}

// inPlace reports whether PostgreSQL refused create or replace view because
// the view cannot be redefined in place: a column would be dropped, renamed
// or retyped (42P16), or the relation is not a view (42809).
func inPlace(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "42P16" || pg.Code == "42809")
}

// view builds a view in place with create or replace view, which is atomic
// and leaves the views that depend on it, its owner, grants and comments
// alone. Usually that is one round trip: the lock, the view, the grants to
// change and the comment, as one multi-statement transaction. done=false: the
// view cannot be redefined in place, nothing changed, build and swap instead.
func (b *builder) view(ctx context.Context, body string, state relState) (done bool, err error) {
	n := b.n
	target := n.Relation
	create := materialize.CreateOrReplaceView(target, body)
	lock := swapLockView
	b.response = "CREATE VIEW"
	mark := len(b.executed)
	fast := state.known && (state.exists || !b.cat.defaultPrivileges) &&
		len(n.Config.PreHook) == 0 && len(n.Config.PostHook) == 0 && !n.Config.Contract
	if fast {
		steps := append([]materialize.Step{lock, create}, materialize.SyncGrants(target, n.Config.Grants, state.Privileges)...)
		steps = append(steps, b.comment(target, "view", state)...)
		_, failed, err := b.batch(ctx, steps)
		if failed == 1 && inPlace(err) {
			b.rollback(mark, err.Error())
			return false, nil
		}
		return err == nil, err
	}
	var again bool
	err = pgx.BeginFunc(ctx, b.e.DB.Pool, func(tx pgx.Tx) error {
		if err := b.run(ctx, tx, lock); err != nil {
			return err
		}
		if err := b.hooks(ctx, tx, "pre_hook", n.Config.PreHook); err != nil {
			return err
		}
		if err := b.contract(ctx, tx, body); err != nil {
			return err
		}
		if err := b.run(ctx, tx, create); err != nil {
			again = inPlace(err)
			if again {
				b.rollback(mark, err.Error())
			}
			return err
		}
		steps, err := b.e.grantsAndComment(ctx, tx, n, target, "view")
		if err != nil {
			return err
		}
		if n.Description == "" && (state.Comment != nil || !state.known) {
			steps = append(steps, materialize.Uncomment(target, "view"))
		}
		if err := b.run(ctx, tx, steps...); err != nil {
			return err
		}
		return b.hooks(ctx, tx, "post_hook", n.Config.PostHook)
	})
	if again {
		return false, nil
	}
	return err == nil, err
}

// comment sets, removes or leaves the description of a relation as it was.
func (b *builder) comment(on pgname.Rel, kind string, state relState) []materialize.Step {
	d := b.n.Description
	switch {
	case d != "" && (state.Comment == nil || *state.Comment != d):
		return []materialize.Step{materialize.Comment(on, kind, d)}
	case d == "" && state.Comment != nil:
		return []materialize.Step{materialize.Uncomment(on, kind)}
	}
	return nil
}

// replace builds the model under a temporary name and swaps it in. It
// returns the kind of relation built.
func (b *builder) replace(ctx context.Context, body, mat string) (string, error) {
	n, e := b.n, b.e
	target := n.Relation
	tmp := pgname.Rel{Schema: target.Schema, Name: pgname.Temp(target.Name)}
	kind := map[string]string{"view": "view", "materialized_view": "materialized_view"}[mat]
	if kind == "" {
		kind = "table"
	}
	pb := n.Config.PartitionBy
	if kind == "table" && pb != nil && pb.Column != "" {
		kind = "partitioned_table"
	}
	leftover := b.cat.get(tmp)
	var parts []materialize.Partition
	var err error
	// First transaction: build the new relation under a temporary name, complete
	// with indexes, grants, comment and statistics. Readers still see the old one.
	if leftover.known && !b.cat.defaultPrivileges && kind != "partitioned_table" &&
		len(n.Config.PreHook) == 0 && !n.Config.Contract {
		// One round trip: a fresh relation has no privileges to revoke.
		var steps []materialize.Step
		if leftover.exists {
			steps = append(steps, materialize.DropIfExists(tmp, leftover.Kind))
		}
		at := len(steps)
		switch kind {
		case "view":
			steps = append(steps, materialize.CreateView(tmp, body))
		case "materialized_view":
			steps = append(steps, materialize.CreateMaterializedView(tmp, body))
		default:
			steps = append(steps, materialize.CreateTableAs(tmp, body))
		}
		steps = append(steps, e.completion(n, tmp, kind)...)
		steps = append(steps, materialize.SyncGrants(tmp, n.Config.Grants, nil)...)
		if n.Description != "" {
			steps = append(steps, materialize.Comment(tmp, kind, n.Description))
		}
		var tags []pgconn.CommandTag
		tags, _, err = b.batch(ctx, steps)
		if len(tags) > at && kind != "view" {
			b.rows = tags[at].RowsAffected()
		}
	} else {
		err = pgx.BeginFunc(ctx, e.DB.Pool, func(tx pgx.Tx) error {
			if err := b.hooks(ctx, tx, "pre_hook", n.Config.PreHook); err != nil {
				return err
			}
			if err := b.contract(ctx, tx, body); err != nil {
				return err
			}
			if k, err := postgres.RelKind(ctx, tx, tmp); err != nil {
				return err
			} else if k != "" {
				if err := b.run(ctx, tx, materialize.DropIfExists(tmp, k)); err != nil {
					return err
				}
			}
			switch kind {
			case "view":
				if err := b.run(ctx, tx, materialize.CreateView(tmp, body)); err != nil {
					return err
				}
			case "materialized_view":
				rows, err := b.exec(ctx, tx, materialize.CreateMaterializedView(tmp, body))
				b.rows = rows
				if err != nil {
					return err
				}
			case "partitioned_table":
				stage := pgname.Stage(target.Name)
				if err := b.run(ctx, tx, materialize.Stage(stage, body)); err != nil {
					return err
				}
				if err := b.run(ctx, tx, materialize.CreatePartitioned(tmp, pgname.Ident(stage), *pb)); err != nil {
					return err
				}
				var err error
				if parts, err = b.partitions(ctx, tx, stage, tmp, tmp.Name); err != nil {
					return err
				}
				rows, err := b.exec(ctx, tx, materialize.InsertAll(tmp, pgname.Ident(stage)))
				if err != nil {
					return err
				}
				b.rows = rows
			default:
				rows, err := b.exec(ctx, tx, materialize.CreateTableAs(tmp, body))
				if err != nil {
					return err
				}
				b.rows = rows
			}
			steps, err := e.prepare(ctx, tx, n, tmp, kind)
			if err != nil {
				return err
			}
			return b.run(ctx, tx, steps...)
		})
	}
	if kind == "view" {
		b.response = "CREATE VIEW"
	} else {
		b.response = "SELECT " + strconv.FormatInt(b.rows, 10)
	}
	tmpRel := tmp
	if err != nil {
		b.cat.set(tmpRel, relState{}) // rolled back: a leftover, if any, is still there
		return kind, err
	}
	b.cat.gone(tmpRel) // renamed into place, or dropped if the swap fails
	// The renames that follow the swap: indexes and partitions take the final names.
	var renames []materialize.Step
	if kind != "view" {
		renames = materialize.RenameIndexes(target.Schema, tmp.Name, target.Name, n.Config.Indexes)
	}
	for _, p := range parts {
		renames = append(renames, materialize.RenameTo(
			pgname.Rel{Schema: target.Schema, Name: pgname.Partition(tmp.Name, p.Suffix)},
			"table", pgname.Partition(target.Name, p.Suffix)))
	}
	// Second transaction, short: swap it in. Without dependents (as the
	// catalog says) that is one round trip and takes no lock; the drop has no
	// cascade, so a dependent the catalog did not know about makes PostgreSQL
	// refuse, and the swap is done again the careful way.
	old := b.cat.get(n.Relation)
	if old.known && !old.HasDependents && len(n.Config.PostHook) == 0 {
		var steps []materialize.Step
		if old.exists {
			steps = append(steps, materialize.Drop(target, old.Kind))
		}
		steps = append(steps, materialize.RenameTo(tmp, kind, target.Name))
		steps = append(steps, renames...)
		mark := len(b.executed)
		_, failed, err := b.batch(ctx, steps)
		if err == nil {
			return kind, nil
		}
		var pg *pgconn.PgError
		if failed > 1 || !errors.As(err, &pg) || !slices.Contains([]string{"2BP01", "42P01", "42809", "42P07"}, pg.Code) {
			b.dropTemp(ctx, tmp, kind)
			return kind, err
		}
		b.rollback(mark, err.Error())
	}
	err = pgx.BeginFunc(ctx, e.DB.Pool, func(tx pgx.Tx) error {
		if err := b.run(ctx, tx, swapLock); err != nil {
			return err
		}
		if err := postgres.SwapLogged(ctx, tx, n.Relation, tmp, kind, func(s string) { b.executed = append(b.executed, s) }); err != nil {
			return err
		}
		if err := b.run(ctx, tx, renames...); err != nil {
			return err
		}
		return b.hooks(ctx, tx, "post_hook", n.Config.PostHook)
	})
	if err != nil {
		b.dropTemp(ctx, tmp, kind)
	}
	return kind, err
}

// dropTemp removes the relation built under a temporary name after a failed swap.
func (b *builder) dropTemp(ctx context.Context, tmp pgname.Rel, kind string) {
	_, _ = b.e.DB.Pool.Exec(context.WithoutCancel(ctx), materialize.DropIfExists(tmp, kind).SQL)
}

// contract checks, before any data moves, that the model's query returns
// exactly the declared columns with the declared types.
func (b *builder) contract(ctx context.Context, tx pgx.Tx, body string) error {
	if !b.n.Config.Contract {
		return nil
	}
	probe, err := materialize.ContractProbe(b.n.Columns)
	if err != nil {
		return err
	}
	if probe == "" {
		return errors.New("contract: true needs the model's columns with their data_type in YAML")
	}
	declared, err := postgres.ResultColumns(ctx, tx, probe)
	if err != nil {
		return fmt.Errorf("contract: a declared data_type is not a type PostgreSQL knows: %w", postgres.Explain(err, probe, 0))
	}
	actual, err := postgres.ResultColumns(ctx, tx, body)
	if err != nil {
		return b.e.sqlError(b.n, err, materialize.Step{SQL: body, Body: 0})
	}
	got := map[string]string{}
	for _, c := range actual {
		got[c.Name] = c.Type
	}
	want := map[string]bool{}
	var problems []string
	for _, d := range declared {
		want[d.Name] = true
		t, ok := got[d.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("column %s is declared (%s) but the query does not return it", d.Name, d.Type))
		case t != d.Type:
			problems = append(problems, fmt.Sprintf("column %s is %s, declared %s", d.Name, t, d.Type))
		}
	}
	for _, c := range actual {
		if !want[c.Name] {
			problems = append(problems, fmt.Sprintf("column %s (%s) is returned but not declared", c.Name, c.Type))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("contract violated, nothing was built: %s", strings.Join(problems, "; "))
	}
	return nil
}

// partitions creates the partitions of parent (named after base) for the
// periods present in the staged rows.
func (b *builder) partitions(ctx context.Context, tx pgx.Tx, stage string, parent pgname.Rel, base string) ([]materialize.Partition, error) {
	q, err := materialize.PartitionPeriods(pgname.Ident(stage), *b.n.Config.PartitionBy)
	if err != nil {
		return nil, err
	}
	b.executed = append(b.executed, q)
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("partition_by: %w", postgres.Explain(err, q, 0))
	}
	parts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (materialize.Partition, error) {
		var p materialize.Partition
		var from, to *string
		err := row.Scan(&p.Suffix, &from, &to)
		if from != nil {
			p.From, p.To = *from, *to
		}
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("partition_by: %w", postgres.Explain(err, q, 0))
	}
	return parts, b.run(ctx, tx, materialize.CreatePartitions(parent, base, parts)...)
}

// incremental applies the model's new rows to its existing table in one
// transaction: stage them, adapt the table's columns, create the partitions
// they need, then append, merge or delete+insert.
func (b *builder) incremental(ctx context.Context, body string) error {
	n, e := b.n, b.e
	target := n.Relation
	strategy, err := materialize.Strategy(n.Config)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, e.DB.Pool, func(tx pgx.Tx) error {
		if err := b.hooks(ctx, tx, "pre_hook", n.Config.PreHook); err != nil {
			return err
		}
		if err := b.contract(ctx, tx, body); err != nil {
			return err
		}
		stage := pgname.Stage(target.Name)
		if err := b.run(ctx, tx, materialize.Stage(stage, body)); err != nil {
			return err
		}
		newCols, err := postgres.Columns(ctx, tx, pgname.Rel{Schema: "pg_temp", Name: stage})
		if err != nil {
			return err
		}
		oldCols, err := postgres.Columns(ctx, tx, n.Relation)
		if err != nil {
			return err
		}
		for _, k := range n.Config.UniqueKey {
			if !hasColumn(newCols, k) {
				return fmt.Errorf("unique_key: the model returns no column %s", k)
			}
		}
		steps, cols, err := materialize.SchemaChange(n.Config.OnSchemaChange, target, mcols(oldCols), mcols(newCols))
		if err != nil {
			return err
		}
		if err := b.run(ctx, tx, steps...); err != nil {
			return err
		}
		var parts []materialize.Partition
		if pb := n.Config.PartitionBy; pb != nil && pb.Column != "" {
			if k, _ := postgres.RelKind(ctx, tx, n.Relation); k == "partitioned_table" {
				if parts, err = b.partitions(ctx, tx, stage, target, target.Name); err != nil {
					return err
				}
			}
		}
		var key []string
		if strategy != "append" {
			key = n.Config.UniqueKey
		}
		if err := b.run(ctx, tx, materialize.StageIndex(stage, key)...); err != nil {
			return err
		}
		var rows int64
		for _, s := range materialize.Incremental(strategy, target, stage, cols, key) {
			c, err := b.exec(ctx, tx, s)
			if err != nil {
				return err
			}
			rows = c
		}
		b.rows = rows
		b.response = fmt.Sprintf("%s %d", strings.ToUpper(strategy), rows)
		analyze, err := incrementalAnalyze(ctx, tx, target, parts, rows)
		if err != nil {
			return err
		}
		steps, err = e.finishWith(ctx, tx, n, target, "table", analyze)
		if err != nil {
			return err
		}
		if err := b.run(ctx, tx, steps...); err != nil {
			return err
		}
		return b.hooks(ctx, tx, "post_hook", n.Config.PostHook)
	})
}

// refresh refreshes a materialized view in place when its definition is
// unchanged (concurrently when a unique index allows); done=false means it
// must be rebuilt instead.
func (b *builder) refresh(ctx context.Context, body string) (done bool, err error) {
	n, e := b.n, b.e
	target := n.Relation
	err = pgx.BeginFunc(ctx, e.DB.Pool, func(tx pgx.Tx) error {
		probe := pgname.Stage(target.Name)
		if _, err := tx.Exec(ctx, "create temporary view "+pgname.Ident(probe)+" as\n"+body); err != nil {
			return nil // the query no longer compiles as it stands: rebuild, which reports the error
		}
		newDef, err := postgres.ViewDef(ctx, tx, pgname.Rel{Schema: "pg_temp", Name: probe})
		if err != nil {
			return err
		}
		oldDef, err := postgres.ViewDef(ctx, tx, n.Relation)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "drop view "+pgname.Ident(probe)); err != nil {
			return err
		}
		if newDef != oldDef {
			return nil
		}
		if err := b.hooks(ctx, tx, "pre_hook", n.Config.PreHook); err != nil {
			return err
		}
		var populated bool
		if err := tx.QueryRow(ctx, "select relispopulated from pg_class where oid = to_regclass($1)", target.Quoted()).Scan(&populated); err != nil {
			return err
		}
		unique, err := postgres.HasUniqueIndex(ctx, tx, n.Relation)
		if err != nil {
			return err
		}
		rows, err := b.exec(ctx, tx, materialize.RefreshMaterializedView(target, unique && populated))
		if err != nil {
			return err
		}
		b.rows, b.response = rows, "REFRESH MATERIALIZED VIEW"
		if unique && populated {
			b.response += " CONCURRENTLY"
		}
		steps, err := e.finish(ctx, tx, n, target, "materialized_view")
		if err != nil {
			return err
		}
		if err := b.run(ctx, tx, steps...); err != nil {
			return err
		}
		done = true
		return b.hooks(ctx, tx, "post_hook", n.Config.PostHook)
	})
	return done, err
}

func hasColumn(cols []postgres.Column, name string) bool {
	for _, c := range cols {
		if c.Name == name {
			return true
		}
	}
	return false
}

func mcols(cols []postgres.Column) []materialize.Column {
	out := make([]materialize.Column, len(cols))
	for i, c := range cols {
		out[i] = materialize.Column{Name: c.Name, Type: c.Type}
	}
	return out
}

// completion is what a freshly built relation needs besides grants and
// comment: its indexes and, for data, statistics.
func (e *Executor) completion(n *manifest.Node, on pgname.Rel, kind string) []materialize.Step {
	if kind == "view" {
		return nil
	}
	// Fresh tables have no statistics; without them the planner guesses, and
	// the tests and models that read them can be orders of magnitude slower.
	return append(materialize.Indexes(on, on.Name, n.Config.Indexes), materialize.Step{SQL: "analyze " + on.Quoted(), Body: -1})
}

// prepare returns the statements that complete a freshly built relation
// (the temporary one, or a seed's table): indexes, statistics, grants, comment.
func (e *Executor) prepare(ctx context.Context, q postgres.Querier, n *manifest.Node, on pgname.Rel, kind string) ([]materialize.Step, error) {
	steps := e.completion(n, on, kind)
	more, err := e.grantsAndComment(ctx, q, n, on, kind)
	return append(steps, more...), err
}

// finish completes a relation changed in place (an incremental table, a
// refreshed materialized view): missing indexes, statistics, grants, comment.
func (e *Executor) finish(ctx context.Context, q postgres.Querier, n *manifest.Node, on pgname.Rel, kind string) ([]materialize.Step, error) {
	return e.finishWith(ctx, q, n, on, kind, []pgname.Rel{on})
}

// finishWith is finish analyzing only the given relations.
func (e *Executor) finishWith(ctx context.Context, q postgres.Querier, n *manifest.Node, on pgname.Rel, kind string, analyze []pgname.Rel) ([]materialize.Step, error) {
	steps := materialize.Indexes(on, on.Name, n.Config.Indexes)
	for _, r := range analyze {
		steps = append(steps, materialize.Step{SQL: "analyze " + r.Quoted(), Body: -1})
	}
	more, err := e.grantsAndComment(ctx, q, n, on, kind)
	return append(steps, more...), err
}

// incrementalAnalyze picks what to analyze after an incremental load of rows
// into target. Analyzing a large table samples all of it (over a second for
// a few hundred thousand rows, every run); like autovacuum, strata analyzes
// the whole table only once the load changed a tenth of it, and otherwise
// only the partitions the load wrote to (autovacuum never analyzes a
// partitioned table's parent).
func incrementalAnalyze(ctx context.Context, q postgres.Querier, target pgname.Rel, parts []materialize.Partition, rows int64) ([]pgname.Rel, error) {
	var estimate float64
	err := q.QueryRow(ctx, `select coalesce(sum(greatest(c.reltuples, 0)), 0)::float8 from pg_class c
		where c.oid = $1::regclass or c.oid in (select inhrelid from pg_inherits where inhparent = $1::regclass)`, target.Quoted()).Scan(&estimate)
	if err != nil {
		return nil, err
	}
	if float64(rows)*10 >= estimate {
		return []pgname.Rel{target}, nil
	}
	var out []pgname.Rel
	for _, p := range parts {
		out = append(out, pgname.Rel{Schema: target.Schema, Name: pgname.Partition(target.Name, p.Suffix)})
	}
	return out, nil
}

// grantsAndComment grants what config grants, revokes what it no longer
// grants (including default privileges a fresh relation picked up), and sets
// the model's description.
func (e *Executor) grantsAndComment(ctx context.Context, q postgres.Querier, n *manifest.Node, on pgname.Rel, kind string) ([]materialize.Step, error) {
	have, err := postgres.Privileges(ctx, q, pgname.Rel{Schema: on.Schema, Name: on.Name})
	if err != nil {
		return nil, err
	}
	steps := materialize.SyncGrants(on, n.Config.Grants, have)
	if n.Description != "" {
		steps = append(steps, materialize.Comment(on, kind, n.Description))
	}
	return steps, nil
}

// runHooks renders a node's hooks (which is pre_hook or post_hook) and runs
// them on q through exec, in order.
func (e *Executor) runHooks(ctx context.Context, q postgres.Querier, n *manifest.Node, which string, hooks []string, exec func(context.Context, postgres.Querier, materialize.Step) error) error {
	for _, h := range hooks {
		sql, err := e.C.Hook(n.Path+" "+which, h, n.Relation.Quoted())
		if err != nil {
			return err
		}
		if err := exec(ctx, q, materialize.Step{SQL: sql, Body: -1}); err != nil {
			return fmt.Errorf("%s: %w", which, err)
		}
	}
	return nil
}

// postHooks runs a node's post_hook statements.
func (e *Executor) postHooks(ctx context.Context, q postgres.Querier, n *manifest.Node, exec func(context.Context, postgres.Querier, materialize.Step) error) error {
	return e.runHooks(ctx, q, n, "post_hook", n.Config.PostHook, exec)
}

// afterBuild completes a seed's table after it was loaded or, when its data
// was kept (loaded false), applies what may have changed since: indexes,
// grants, comment and post_hook.
func (e *Executor) afterBuild(ctx context.Context, q postgres.Querier, n *manifest.Node, kind string, loaded bool) error {
	var steps []materialize.Step
	var err error
	if loaded {
		steps, err = e.prepare(ctx, q, n, n.Relation, kind)
	} else {
		// Unchanged rows need no new statistics.
		steps, err = e.finishWith(ctx, q, n, n.Relation, kind, nil)
	}
	if err != nil {
		return err
	}
	for _, s := range steps {
		if err := execStep(ctx, q, s); err != nil {
			return err
		}
	}
	return e.postHooks(ctx, q, n, execStep)
}

// execStep runs a statement of strata's own on q; an error names the
// statement by its first line.
func execStep(ctx context.Context, q postgres.Querier, s materialize.Step) error {
	if _, err := q.Exec(ctx, s.SQL); err != nil {
		return fmt.Errorf("%s: %w", firstLine(s.SQL), postgres.Explain(err, s.SQL, 0))
	}
	return nil
}
