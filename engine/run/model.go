package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/compile"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
)

// builder builds one model: it executes the plan materialize made, reading
// from the database what the plan's ops need, and records every statement it
// sends, for target/run/.
type builder struct {
	e *Executor
	n *manifest.Node
	// res is the model as rendered for this build, to place errors in its SQL.
	res      compile.Result
	executed []string
	// What the ops read or counted on the way, for the ops after them.
	counts       map[materialize.Counter]int64
	parts        []materialize.Partition // from Partitions
	cols         []string                // from AdaptColumns
	byText       []string                // from CompareByText
	concurrently bool                    // from Refresh
}

func (e *Executor) builder(n *manifest.Node) *builder {
	return &builder{e: e, n: n, counts: map[materialize.Counter]int64{}}
}

func (b *builder) exec(ctx context.Context, q postgres.Querier, s materialize.Step) (int64, error) {
	b.executed = append(b.executed, s.SQL)
	ct, err := q.Exec(ctx, s.SQL)
	if err != nil {
		return 0, b.stepError(s, err)
	}
	return ct.RowsAffected(), nil
}

// stepError names what failed: the model's SQL placed in its own file,
// or the first line of a statement strata wrote.
func (b *builder) stepError(s materialize.Step, err error) error {
	if s.Body >= 0 {
		return b.e.sqlError(b.n, b.res, err, s)
	}
	return execError(s, err)
}

// execError names a statement strata wrote by its first line.
func execError(s materialize.Step, err error) error {
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
		res, err := e.render(n, false)
		if err != nil {
			return fail(r, err)
		}
		r.Compiled, _ = e.writeSQL(n, res.SQL, nil)
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
	o, err := e.observe(ctx, cat, n)
	if err != nil {
		return fail(r, err)
	}
	res, err := e.render(n, materialize.BuildsIncrementally(mat, o.Existing, e.FullRefresh))
	if err != nil {
		return fail(r, err)
	}
	sql := res.SQL
	b := e.builder(n)
	b.res = res
	plan, err := materialize.PlanModel(modelOf(n), materialize.Body(sql), o, e.FullRefresh)
	var done materialize.Plan
	if err == nil {
		done, err = b.execute(ctx, cat, plan)
	}
	r.Compiled, r.Executed = e.writeSQL(n, sql, b.executed)
	if err != nil {
		return fail(r, err)
	}
	cat.Built(n.Relation, done.Kind)
	if done.Kind == "view" || done.Kind == "materialized_view" {
		for _, id := range n.DependsOn {
			if p := e.M.Nodes[id]; p != nil && p.Relation.Name != "" {
				cat.ReadBy(p.Relation)
			}
		}
	}
	r.Status = Success
	r.Rows = b.counts[materialize.Rows]
	r.Response = done.Response
	if strings.Contains(r.Response, "%d") {
		r.Response = fmt.Sprintf(r.Response, r.Rows)
	}
	if b.concurrently {
		r.Response += " CONCURRENTLY"
	}
	r.Duration = time.Since(start)
	return r
}

// execute runs plan's transactions in order, or what one of them gives way
// to, and returns the plan that ran to its end.
func (b *builder) execute(ctx context.Context, cat *postgres.Catalog, p materialize.Plan) (materialize.Plan, error) {
	for _, tx := range p.Txs {
		yielded, err := b.tx(ctx, p, tx)
		if yielded {
			return b.execute(ctx, cat, *tx.Else)
		}
		if tx.Temp != nil {
			if err != nil {
				cat.Forget(*tx.Temp) // rolled back: a leftover, if any, is still there
			} else {
				cat.Gone(*tx.Temp) // renamed into place, or dropped if the swap fails
			}
		}
		if err != nil {
			if tx.Cleanup != nil {
				_, _ = b.e.DB.Pool.Exec(context.WithoutCancel(ctx), tx.Cleanup.SQL)
			}
			return p, err
		}
	}
	return p, nil
}

// tx runs one transaction of p. yielded: it gave way to its Else, and
// nothing changed.
func (b *builder) tx(ctx context.Context, p materialize.Plan, t materialize.Tx) (yielded bool, err error) {
	mark := len(b.executed)
	if t.Batch {
		return b.batchTx(ctx, t, mark)
	}
	var out outcome
	err = pgx.BeginFunc(ctx, b.e.DB.Pool, func(tx pgx.Tx) error {
		var err error
		out, err = b.ops(ctx, tx, p, t.Ops, t.Yield, mark)
		return err
	})
	if out == yieldedByRollback || out == yieldedByCommit && err == nil {
		return true, nil
	}
	return false, err
}

// outcome is how ops ended.
type outcome int

const (
	ran outcome = iota
	// yieldedByRollback: an Exec marked Yield failed with one of the codes
	// to yield on; the transaction is to be rolled back.
	yieldedByRollback
	// yieldedByCommit: SameDefinition found the definition changed; nothing
	// was changed, the transaction is to be committed.
	yieldedByCommit
)

// ops runs ops in tx, in order, and stops at the first error or when one
// yields. yield are the SQLSTATEs to yield on and mark where the
// transaction's statements start in the record.
func (b *builder) ops(ctx context.Context, tx pgx.Tx, p materialize.Plan, ops []materialize.Op, yield []string, mark int) (outcome, error) {
	for _, op := range ops {
		switch op := op.(type) {
		case materialize.Exec:
			rows, err := b.exec(ctx, tx, op.Step)
			if op.Count != materialize.NoCount {
				b.counts[op.Count] = rows
			}
			if err != nil && op.Yield && sqlstateIn(err, yield) {
				b.rollback(mark, err.Error())
				return yieldedByRollback, err
			}
			if err != nil {
				return ran, err
			}
		case materialize.SameDefinition:
			if differs, err := b.differs(ctx, tx, p, op); err != nil || differs {
				return yieldedByCommit, err
			}
		default:
			if err := b.op(ctx, tx, p, op); err != nil {
				return ran, err
			}
		}
	}
	return ran, nil
}

// all runs ops in tx, none of which yields.
func (b *builder) all(ctx context.Context, tx pgx.Tx, p materialize.Plan, ops []materialize.Op) error {
	_, err := b.ops(ctx, tx, p, ops, nil, 0)
	return err
}

// batchTx sends a transaction in one round trip.
func (b *builder) batchTx(ctx context.Context, t materialize.Tx, mark int) (bool, error) {
	var steps []materialize.Step
	var execs []materialize.Exec
	for _, op := range t.Ops {
		switch op := op.(type) {
		case materialize.Exec:
			steps, execs = append(steps, op.Step), append(execs, op)
		case materialize.RenamePartitions:
			for _, s := range op.Steps(b.parts) {
				steps, execs = append(steps, s), append(execs, materialize.Exec{Step: s})
			}
		default:
			return false, fmt.Errorf("internal error: %T in a batch", op)
		}
	}
	tags, failed, err := b.batch(ctx, steps)
	for i, e := range execs {
		if e.Count != materialize.NoCount && i < len(tags) {
			b.counts[e.Count] = tags[i].RowsAffected()
		}
	}
	if err != nil && failed >= 0 && execs[failed].Yield && sqlstateIn(err, t.Yield) {
		b.rollback(mark, err.Error())
		return true, nil
	}
	return false, err
}

// sqlstateIn says whether err is a PostgreSQL error with one of codes.
func sqlstateIn(err error, codes []string) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && slices.Contains(codes, pg.Code)
}

// differs compares the materialized view with the model's SQL as it stands
// (SameDefinition): true when it must be rebuilt instead, or when the SQL
// no longer compiles as it stands (the rebuild reports the error).
func (b *builder) differs(ctx context.Context, tx pgx.Tx, p materialize.Plan, s materialize.SameDefinition) (bool, error) {
	if _, err := tx.Exec(ctx, s.Create(p.Body)); err != nil {
		return true, nil
	}
	newDef, err := postgres.ViewDef(ctx, tx, s.ProbeRel())
	if err != nil {
		return false, err
	}
	oldDef, err := postgres.ViewDef(ctx, tx, s.Rel)
	if err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, s.Drop()); err != nil {
		return false, err
	}
	return newDef != oldDef, nil
}

// op runs one op of a transaction other than Exec and SameDefinition,
// reading what it needs from the database.
func (b *builder) op(ctx context.Context, tx pgx.Tx, p materialize.Plan, op materialize.Op) error {
	n := b.n
	switch op := op.(type) {
	case materialize.Hooks:
		if op.Post {
			return b.hooks(ctx, tx, "post_hook", n.Config.PostHook)
		}
		return b.hooks(ctx, tx, "pre_hook", n.Config.PreHook)
	case materialize.Contract:
		return b.contract(ctx, tx, p.Body)
	case materialize.DropLeftover:
		kind, err := postgres.RelKind(ctx, tx, op.Rel)
		if err != nil {
			return err
		}
		return b.run(ctx, tx, op.Steps(kind)...)
	case materialize.Partitions:
		return b.partitions(ctx, tx, op)
	case materialize.RenamePartitions:
		return b.run(ctx, tx, op.Steps(b.parts)...)
	case materialize.AdaptColumns:
		newCols, err := postgres.Columns(ctx, tx, op.StageRel())
		if err != nil {
			return err
		}
		oldCols, err := postgres.Columns(ctx, tx, op.Target)
		if err != nil {
			return err
		}
		steps, cols, err := op.Steps(mcols(oldCols), mcols(newCols))
		if err != nil {
			return err
		}
		b.cols = cols
		return b.run(ctx, tx, steps...)
	case materialize.Merge:
		var rows int64
		for _, s := range op.Steps(b.cols) {
			c, err := b.exec(ctx, tx, s)
			if err != nil {
				return err
			}
			rows = c
		}
		b.counts[materialize.Rows] = rows
		return nil
	case materialize.Refresh:
		populated, err := postgres.Populated(ctx, tx, op.Rel)
		if err != nil {
			return err
		}
		unique, err := postgres.HasUniqueIndex(ctx, tx, op.Rel)
		if err != nil {
			return err
		}
		rows, err := b.exec(ctx, tx, op.Step(populated, unique))
		if err != nil {
			return err
		}
		b.counts[materialize.Rows], b.concurrently = rows, populated && unique
		return nil
	case materialize.Finish:
		var analyze []pgname.Rel
		switch op.Analyze {
		case materialize.AnalyzeAll:
			analyze = []pgname.Rel{op.On}
		case materialize.AnalyzeLoaded:
			estimate, err := postgres.RowEstimate(ctx, tx, op.On)
			if err != nil {
				return err
			}
			analyze = materialize.AnalyzeAfterLoad(op.On, b.parts, b.counts[materialize.Rows], estimate)
		}
		have, err := postgres.Privileges(ctx, tx, op.On)
		if err != nil {
			return err
		}
		return b.run(ctx, tx, op.Steps(p.Model, analyze, have)...)
	case materialize.Swap:
		if op.Unlogged {
			return postgres.Swap(ctx, tx, op.Target, op.Temp, op.Kind)
		}
		return postgres.SwapLogged(ctx, tx, op.Target, op.Temp, op.Kind, func(s string) { b.executed = append(b.executed, s) })
	case materialize.CheckKeys:
		return b.checkKeys(ctx, tx, op)
	case materialize.CompareByText:
		var err error
		b.byText, err = b.compareByText(ctx, tx, op)
		return err
	case materialize.Changes:
		rows, err := b.exec(ctx, tx, op.Build.WithByText(b.byText).Changes())
		b.counts[materialize.Inserted] = rows
		return err
	case materialize.Count:
		b.executed = append(b.executed, op.SQL)
		var c int64
		if err := tx.QueryRow(ctx, op.SQL).Scan(&c); err != nil {
			return postgres.Explain(err, op.SQL, 0)
		}
		b.counts[op.Into] = c
		return nil
	}
	return fmt.Errorf("internal error: no way to run %T", op)
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
		return b.stepError(materialize.Step{SQL: body, Body: 0}, err)
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

// partitions creates the partitions for the periods present in the staged
// rows (when the parent is partitioned, if the op asks).
func (b *builder) partitions(ctx context.Context, tx pgx.Tx, op materialize.Partitions) error {
	if op.IfPartitioned {
		if k, _ := postgres.RelKind(ctx, tx, op.Parent); k != "partitioned_table" {
			return nil
		}
	}
	q, err := op.Query()
	if err != nil {
		return err
	}
	b.executed = append(b.executed, q)
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("partition_by: %w", postgres.Explain(err, q, 0))
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
		return fmt.Errorf("partition_by: %w", postgres.Explain(err, q, 0))
	}
	b.parts = parts
	return b.run(ctx, tx, op.Steps(parts)...)
}

func mcols(cols []postgres.Column) []materialize.Column {
	out := make([]materialize.Column, len(cols))
	for i, c := range cols {
		out[i] = materialize.Column{Name: c.Name, Type: c.Type}
	}
	return out
}

// finishSeed completes a seed's table after it was loaded or, when its data
// was kept (loaded false), applies what may have changed since: indexes,
// grants, comment and post_hook.
func (e *Executor) finishSeed(ctx context.Context, q postgres.Querier, n *manifest.Node, loaded bool) error {
	f := materialize.Finish{On: n.Relation, Kind: "table", Indexes: true}
	var analyze []pgname.Rel
	if loaded {
		analyze = []pgname.Rel{n.Relation}
	} // unchanged rows need no new statistics
	have, err := postgres.Privileges(ctx, q, n.Relation)
	if err != nil {
		return err
	}
	for _, s := range f.Steps(modelOf(n), analyze, have) {
		if err := execStep(ctx, q, s); err != nil {
			return err
		}
	}
	return e.postHooks(ctx, q, n, execStep)
}

// runHooks renders a node's hooks (which is pre_hook or post_hook) and runs
// them on q through exec, in order. An error is placed where the hook is
// configured, with its place in the hook.
func (e *Executor) runHooks(ctx context.Context, q postgres.Querier, n *manifest.Node, which string, hooks []string, exec func(context.Context, postgres.Querier, materialize.Step) error) error {
	for i := range hooks {
		res, err := e.C.ModelHook(n, which, i)
		if err != nil {
			return err
		}
		if err := exec(ctx, q, materialize.Step{SQL: res.SQL, Body: -1}); err != nil {
			return e.C.ModelHookError(n, which, i, res, err)
		}
	}
	return nil
}

// postHooks runs a node's post_hook statements.
func (e *Executor) postHooks(ctx context.Context, q postgres.Querier, n *manifest.Node, exec func(context.Context, postgres.Querier, materialize.Step) error) error {
	return e.runHooks(ctx, q, n, "post_hook", n.Config.PostHook, exec)
}

// execStep runs a statement of strata's own on q; an error names the
// statement by its first line.
func execStep(ctx context.Context, q postgres.Querier, s materialize.Step) error {
	if _, err := q.Exec(ctx, s.SQL); err != nil {
		return fmt.Errorf("%s: %w", firstLine(s.SQL), postgres.Explain(err, s.SQL, 0))
	}
	return nil
}
