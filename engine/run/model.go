package run

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/compile"
	"strata/engine/manifest"
	"strata/engine/materialize"
)

// swapLock serializes swaps, so two of them never rewrite the same dependent view at once.
const swapLock = "select pg_advisory_xact_lock(hashtextextended('strata:swap', 0))"

// builder builds one model and records every statement it sends, for target/run/.
type builder struct {
	e        *Executor
	n        *manifest.Node
	executed []string
	rows     int64
	response string
}

func (b *builder) exec(ctx context.Context, q postgres.Querier, s materialize.Step) (int64, error) {
	b.executed = append(b.executed, s.SQL)
	ct, err := q.Exec(ctx, s.SQL)
	if err != nil {
		if s.Body >= 0 {
			return 0, b.e.sqlError(b.n, err, s)
		}
		return 0, fmt.Errorf("%s: %w", firstLine(s.SQL), postgres.Explain(err, s.SQL, 0))
	}
	return ct.RowsAffected(), nil
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
	for _, h := range hooks {
		sql, err := b.e.C.Hook(b.n.Path+" "+which, h, b.n.Relation.Quoted())
		if err != nil {
			return err
		}
		if _, err := b.exec(ctx, q, materialize.Step{SQL: sql, Body: -1}); err != nil {
			return fmt.Errorf("%s: %w", which, err)
		}
	}
	return nil
}

func (e *Executor) model(ctx context.Context, n *manifest.Node) Result {
	start := time.Now()
	r := Result{Started: start, Relation: n.Relation.String()}
	mat := n.Config.Materialized
	if mat == "ephemeral" {
		res, err := e.C.Node(n, compile.Options{})
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
	existing, err := postgres.RelKind(ctx, e.DB.Pool, prel(n.Relation))
	if err != nil {
		return fail(r, err)
	}
	incremental := mat == "incremental" && !e.FullRefresh && (existing == "table" || existing == "partitioned_table")
	res, err := e.C.Node(n, compile.Options{IsIncremental: incremental})
	if err != nil {
		return fail(r, err)
	}
	body := materialize.Body(res.SQL, e.Empty)
	b := &builder{e: e, n: n}
	switch {
	case incremental:
		err = b.incremental(ctx, body)
	case mat == "materialized_view" && existing == "materialized_view" && !e.FullRefresh:
		var done bool
		if done, err = b.refresh(ctx, body); err == nil && !done {
			err = b.replace(ctx, body, mat)
		}
	default:
		err = b.replace(ctx, body, mat)
	}
	r.Compiled, r.Executed = e.writeSQL(n, res.SQL, b.executed)
	if err != nil {
		return fail(r, err)
	}
	r.Status = Success
	r.Rows = b.rows
	r.Response = b.response
	r.Duration = time.Since(start)
	return r
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

// replace builds the model under a temporary name and swaps it in.
func (b *builder) replace(ctx context.Context, body, mat string) error {
	n, e := b.n, b.e
	target := rel(n.Relation)
	tmp := materialize.Rel{Schema: target.Schema, Name: materialize.TempName(target.Name)}
	kind := map[string]string{"view": "view", "materialized_view": "materialized_view"}[mat]
	if kind == "" {
		kind = "table"
	}
	pb := n.Config.PartitionBy
	if kind == "table" && pb != nil && pb.Column != "" {
		kind = "partitioned_table"
	}
	var parts []materialize.Partition
	// First transaction: build the new relation under a temporary name, complete
	// with indexes, grants, comment and statistics. Readers still see the old one.
	err := pgx.BeginFunc(ctx, e.DB.Pool, func(tx pgx.Tx) error {
		if err := b.hooks(ctx, tx, "pre_hook", n.Config.PreHook); err != nil {
			return err
		}
		if err := b.contract(ctx, tx, body); err != nil {
			return err
		}
		if k, err := postgres.RelKind(ctx, tx, prel(manifest.Relation(tmp))); err != nil {
			return err
		} else if k != "" {
			if err := b.run(ctx, tx, materialize.DropIfExists(tmp, k)); err != nil {
				return err
			}
		}
		switch kind {
		case "view":
			b.response = "CREATE VIEW"
			if err := b.run(ctx, tx, materialize.CreateView(tmp, body)); err != nil {
				return err
			}
		case "materialized_view":
			rows, err := b.exec(ctx, tx, materialize.CreateMaterializedView(tmp, body))
			b.rows, b.response = rows, "SELECT "+strconv.FormatInt(rows, 10)
			if err != nil {
				return err
			}
		case "partitioned_table":
			stage := materialize.StageName(target.Name)
			if err := b.run(ctx, tx, materialize.Stage(stage, body)); err != nil {
				return err
			}
			if err := b.run(ctx, tx, materialize.CreatePartitioned(tmp, pgx.Identifier{stage}.Sanitize(), *pb)); err != nil {
				return err
			}
			var err error
			if parts, err = b.partitions(ctx, tx, stage, tmp, tmp.Name); err != nil {
				return err
			}
			rows, err := b.exec(ctx, tx, materialize.InsertAll(tmp, pgx.Identifier{stage}.Sanitize()))
			if err != nil {
				return err
			}
			b.rows, b.response = rows, "SELECT "+strconv.FormatInt(rows, 10)
		default:
			rows, err := b.exec(ctx, tx, materialize.CreateTableAs(tmp, body))
			if err != nil {
				return err
			}
			b.rows, b.response = rows, "SELECT "+strconv.FormatInt(rows, 10)
		}
		steps, err := e.prepare(ctx, tx, n, tmp, kind)
		if err != nil {
			return err
		}
		return b.run(ctx, tx, steps...)
	})
	if err != nil {
		return err
	}
	// Second transaction, short: swap it in. Swaps are serialized so two of them
	// never rewrite the same dependent view at once.
	err = pgx.BeginFunc(ctx, e.DB.Pool, func(tx pgx.Tx) error {
		b.executed = append(b.executed, swapLock)
		if _, err := tx.Exec(ctx, swapLock); err != nil {
			return err
		}
		if err := postgres.SwapLogged(ctx, tx, prel(n.Relation), prel(manifest.Relation(tmp)), kind, func(s string) { b.executed = append(b.executed, s) }); err != nil {
			return err
		}
		if kind != "view" {
			if err := b.run(ctx, tx, materialize.RenameIndexes(target.Schema, tmp.Name, target.Name, n.Config.Indexes)...); err != nil {
				return err
			}
		}
		for _, p := range parts {
			s := materialize.Step{SQL: fmt.Sprintf("alter table %s rename to %s",
				pgx.Identifier{target.Schema, materialize.PartitionName(tmp.Name, p.Suffix)}.Sanitize(),
				pgx.Identifier{materialize.PartitionName(target.Name, p.Suffix)}.Sanitize()), Body: -1}
			if err := b.run(ctx, tx, s); err != nil {
				return err
			}
		}
		return b.hooks(ctx, tx, "post_hook", n.Config.PostHook)
	})
	if err != nil {
		_, _ = e.DB.Pool.Exec(context.WithoutCancel(ctx), materialize.DropIfExists(tmp, kind).SQL)
	}
	return err
}

// partitions creates the partitions of parent (named after base) for the
// periods present in the staged rows.
func (b *builder) partitions(ctx context.Context, tx pgx.Tx, stage string, parent materialize.Rel, base string) ([]materialize.Partition, error) {
	q, err := materialize.PartitionPeriods(pgx.Identifier{stage}.Sanitize(), *b.n.Config.PartitionBy)
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
	target := rel(n.Relation)
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
		stage := materialize.StageName(target.Name)
		if err := b.run(ctx, tx, materialize.Stage(stage, body)); err != nil {
			return err
		}
		newCols, err := postgres.Columns(ctx, tx, postgres.Rel{Schema: "pg_temp", Name: stage})
		if err != nil {
			return err
		}
		oldCols, err := postgres.Columns(ctx, tx, prel(n.Relation))
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
		if pb := n.Config.PartitionBy; pb != nil && pb.Column != "" {
			if k, _ := postgres.RelKind(ctx, tx, prel(n.Relation)); k == "partitioned_table" {
				if _, err := b.partitions(ctx, tx, stage, target, target.Name); err != nil {
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
		steps, err = e.finish(ctx, tx, n, target, "table")
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
	target := rel(n.Relation)
	err = pgx.BeginFunc(ctx, e.DB.Pool, func(tx pgx.Tx) error {
		probe := materialize.StageName(target.Name)
		if _, err := tx.Exec(ctx, "create temporary view "+pgx.Identifier{probe}.Sanitize()+" as\n"+body); err != nil {
			return nil // the query no longer compiles as it stands: rebuild, which reports the error
		}
		newDef, err := postgres.ViewDef(ctx, tx, postgres.Rel{Schema: "pg_temp", Name: probe})
		if err != nil {
			return err
		}
		oldDef, err := postgres.ViewDef(ctx, tx, prel(n.Relation))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "drop view "+pgx.Identifier{probe}.Sanitize()); err != nil {
			return err
		}
		if newDef != oldDef {
			return nil
		}
		if err := b.hooks(ctx, tx, "pre_hook", n.Config.PreHook); err != nil {
			return err
		}
		var populated bool
		if err := tx.QueryRow(ctx, "select relispopulated from pg_class where oid = to_regclass($1)", target.Q()).Scan(&populated); err != nil {
			return err
		}
		unique, err := postgres.HasUniqueIndex(ctx, tx, prel(n.Relation))
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

// prepare returns the statements that complete a freshly built relation
// (the temporary one, or a seed's table): indexes, statistics, grants, comment.
func (e *Executor) prepare(ctx context.Context, q postgres.Querier, n *manifest.Node, on materialize.Rel, kind string) ([]materialize.Step, error) {
	var steps []materialize.Step
	if kind != "view" {
		steps = append(steps, materialize.Indexes(on, on.Name, n.Config.Indexes)...)
		// Fresh tables have no statistics; without them the planner guesses, and
		// the tests and models that read them can be orders of magnitude slower.
		steps = append(steps, materialize.Step{SQL: "analyze " + on.Q(), Body: -1})
	}
	more, err := e.grantsAndComment(ctx, q, n, on, kind)
	return append(steps, more...), err
}

// finish completes a relation changed in place (an incremental table, a
// refreshed materialized view): missing indexes, statistics, grants, comment.
func (e *Executor) finish(ctx context.Context, q postgres.Querier, n *manifest.Node, on materialize.Rel, kind string) ([]materialize.Step, error) {
	steps := materialize.Indexes(on, on.Name, n.Config.Indexes)
	steps = append(steps, materialize.Step{SQL: "analyze " + on.Q(), Body: -1})
	more, err := e.grantsAndComment(ctx, q, n, on, kind)
	return append(steps, more...), err
}

// grantsAndComment grants what config grants, revokes what it no longer
// grants (including default privileges a fresh relation picked up), and sets
// the model's description.
func (e *Executor) grantsAndComment(ctx context.Context, q postgres.Querier, n *manifest.Node, on materialize.Rel, kind string) ([]materialize.Step, error) {
	have, err := postgres.Privileges(ctx, q, postgres.Rel{Schema: on.Schema, Name: on.Name})
	if err != nil {
		return nil, err
	}
	steps := materialize.SyncGrants(on, n.Config.Grants, have)
	if n.Description != "" {
		steps = append(steps, materialize.Comment(on, kind, n.Description))
	}
	return steps, nil
}

func (e *Executor) postHooks(ctx context.Context, q postgres.Querier, n *manifest.Node, exec func(context.Context, postgres.Querier, materialize.Step) error) error {
	for _, h := range n.Config.PostHook {
		sql, err := e.C.Hook(n.Path+" post_hook", h, n.Relation.Quoted())
		if err != nil {
			return err
		}
		if err := exec(ctx, q, materialize.Step{SQL: sql, Body: -1}); err != nil {
			return fmt.Errorf("post_hook: %w", err)
		}
	}
	return nil
}

// afterBuild completes a seed's table after it was loaded.
func (e *Executor) afterBuild(ctx context.Context, q postgres.Querier, n *manifest.Node, kind string) error {
	exec := func(ctx context.Context, q postgres.Querier, s materialize.Step) error {
		if _, err := q.Exec(ctx, s.SQL); err != nil {
			return fmt.Errorf("%s: %w", firstLine(s.SQL), postgres.Explain(err, s.SQL, 0))
		}
		return nil
	}
	steps, err := e.prepare(ctx, q, n, rel(n.Relation), kind)
	if err != nil {
		return err
	}
	for _, s := range steps {
		if err := exec(ctx, q, s); err != nil {
			return err
		}
	}
	return e.postHooks(ctx, q, n, exec)
}
