package run

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/materialize"
)

// scd2 builds a slowly changing dimension (docs/scd2.md) in one transaction: the
// model's query is staged into an unlogged table (dropped before commit) and
// indexed on its unique key, which checks the key (no NULL, no duplicate)
// before the dimension is touched; the first build makes every row current;
// later builds close the current version of changed and deleted keys and
// insert new versions, set-based. An advisory lock keeps two runs of one
// dimension from interleaving. What each step does is decided by
// materialize.SCD2 from what this reads of the database; the change times
// are described there.
func (e *Executor) scd2(ctx context.Context, n *manifest.Node, r Result) Result {
	res, err := e.render(n, false)
	if err != nil {
		return fail(r, err)
	}
	compiled := res.SQL
	if err := e.ensureSchema(ctx, n.Relation.Schema); err != nil {
		return fail(r, err)
	}
	runTS := time.Now().UTC()
	if e.C.RunStartedAt != "" {
		if t, err := time.Parse(time.RFC3339Nano, e.C.RunStartedAt); err == nil {
			runTS = t
		}
	}
	m, err := e.modelFor(ctx, n)
	if err != nil {
		return fail(r, err)
	}
	d := materialize.NewSCD2(m, n.Name, runTS)
	d.FullRefresh = e.FullRefresh
	p := materialize.Plan{Model: m, Body: materialize.Body(compiled)}
	b := e.builder(n)
	b.res = res
	var response, did string
	var rows int64
	citus, err := e.onCitus(ctx)
	if err != nil {
		return fail(r, err)
	}
	conn, err := e.DB.Acquire(ctx)
	if err != nil {
		return fail(r, err)
	}
	defer conn.Release()
	t := newTxn(conn.Conn(), citus)
	err = func() error {
		if err := b.all(ctx, t, p, d.Prelude()); err != nil {
			return err
		}
		if d.Beside, err = e.dimensionPlaced(ctx, t, n, m); err != nil {
			return err
		}
		if err := b.all(ctx, t, p, d.StageSource(p.Body)); err != nil {
			return err
		}
		src, err := postgres.Columns(ctx, t, d.Source)
		if err != nil {
			return err
		}
		d = d.Staged(mcols(src))
		if err := sourceProblems(n, d.SourceProblems()); err != nil {
			return err
		}
		if err := b.all(ctx, t, p, []materialize.Op{materialize.CheckKeys{Build: d}}); err != nil {
			return err
		}
		kind, err := postgres.RelKind(ctx, t, n.Relation)
		if err != nil {
			return err
		}
		b.fresh = kind == ""
		path, err := d.Path(kind, e.FullRefresh)
		if err != nil {
			return b.placeAtConfig(err)
		}
		switch path {
		case materialize.SCD2Create:
			if err := b.all(ctx, t, p, d.Build(kind)); err != nil {
				return err
			}
			rows, response = materialize.CreateResult(b.counts, kind != "")
			did = materialize.Created
		case materialize.SCD2Update:
			placed, err := e.placed(ctx, t, n.Relation)
			if err != nil {
				return err
			}
			var with *materialize.Placed
			if placed != nil && m.Dist != nil {
				if with, err = colocatedWith(ctx, t, *m.Dist); err != nil {
					return err
				}
			}
			if err := materialize.SamePlacement(m, placed, with); err != nil {
				return err
			}
			b.executed = append(b.executed, d.LockTable().SQL)
			if _, err := t.Exec(ctx, d.LockTable().SQL); err != nil {
				return b.stepError(d.LockTable(), err)
			}
			dim, err := postgres.Columns(ctx, t, n.Relation)
			if err != nil {
				return err
			}
			hist, err := postgres.IndexColumns(ctx, t, n.Relation.In(d.HistoryIndex()))
			if err != nil {
				return err
			}
			_, ops, err := d.Update(materialize.SCD2Observed{Source: mcols(src), Dimension: mcols(dim), HistoryKey: hist})
			if err != nil {
				return b.placeAtConfig(err)
			}
			if err := b.all(ctx, t, p, ops); err != nil {
				return err
			}
			rows, response = materialize.UpdateResult(b.counts)
			did = "updated"
		}
		if err := b.all(ctx, t, p, d.End()); err != nil {
			return err
		}
		// The audit reads the dimension as this build leaves it, its
		// post_hook included, before anything else sees it.
		if m.Audit {
			if err := b.all(ctx, t, p, []materialize.Op{materialize.Audit{On: n.Relation}}); err != nil {
				return err
			}
		}
		b.queueRecord(t)
		_, err = b.flush(ctx, t, true)
		return err
	}()
	if err != nil {
		_ = t.Rollback(ctx)
	}
	r.Compiled, r.Executed = e.writeSQL(n, compiled, b.executed)
	r.Audits = b.auditResults()
	if err != nil {
		return e.failed(ctx, r, b, err)
	}
	r.Status = Success
	r.Response, r.Did = response, did
	r.Rows = rows
	r.Duration = time.Since(r.Started)
	return r
}

// sourceProblems places each problem of scd2 model n's config with its
// query's columns (materialize.SCD2.SourceProblems) where its key is set,
// else in the model's file; nil when there is none.
func sourceProblems(n *manifest.Node, problems []materialize.SourceProblem) error {
	if len(problems) == 0 {
		return nil
	}
	var l diag.List
	for _, p := range problems {
		pos := diag.Pos{File: n.Path}
		if at, ok := n.ConfigPos[p.Key]; ok && at.File != "" {
			pos = at
		}
		l.Errorf(pos, "%s", p.Msg)
	}
	return startsPlaced{l}
}

// checkKeys refuses a source whose unique key has a NULL or a duplicate
// (materialize.CheckKeys).
func (b *builder) checkKeys(ctx context.Context, tx *postgres.Txn, c materialize.CheckKeys) error {
	d := c.Build
	if err := b.run(ctx, tx, c.Savepoint()); err != nil {
		return err
	}
	kerr := b.run(ctx, tx, d.KeyIndex())
	var pg *pgconn.PgError
	if kerr != nil && (!errors.As(kerr, &pg) || pg.Code != "23505") { // unique_violation
		return kerr
	}
	if kerr != nil {
		if err := b.run(ctx, tx, c.Rollback()); err != nil {
			return err
		}
	}
	if err := b.keyGuards(ctx, tx, d, kerr != nil); err != nil {
		return err
	}
	return kerr // the guards found nothing: say what the database said
}

// keyGuards counts the NULLs in the source's unique key and, when
// duplicates were found, names the most duplicated value.
func (b *builder) keyGuards(ctx context.Context, tx *postgres.Txn, d materialize.SCD2, duplicates bool) error {
	q := d.NullKeys()
	b.executed = append(b.executed, q)
	var nulls int64
	if err := tx.QueryRow(ctx, q).Scan(&nulls); err != nil {
		return postgres.Explain(err, q, 0)
	}
	if nulls > 0 {
		return d.NullKeyError(nulls)
	}
	if !duplicates {
		return nil
	}
	q = d.DuplicateKey()
	b.executed = append(b.executed, q)
	vals := make([]any, len(d.Keys)+1)
	texts := make([]*string, len(d.Keys))
	for i := range texts {
		vals[i] = &texts[i]
	}
	var count int64
	vals[len(d.Keys)] = &count
	err := tx.QueryRow(ctx, q).Scan(vals...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return postgres.Explain(err, q, 0)
	}
	return d.DuplicateKeyError(texts, count)
}

// compareByText finds the compared columns the database has no equality
// for (materialize.CompareByText).
func (b *builder) compareByText(ctx context.Context, tx *postgres.Txn, c materialize.CompareByText) ([]string, error) {
	noEquality := func(cols []string) (bool, error) {
		probe := c.Probe(cols)
		if err := b.run(ctx, tx, probe[0]); err != nil {
			return false, err
		}
		perr := b.run(ctx, tx, probe[1])
		var pg *pgconn.PgError
		if perr != nil && (!errors.As(perr, &pg) || pg.Code != "42883") { // undefined_function
			return false, perr
		}
		return perr != nil, b.run(ctx, tx, c.Undo(perr != nil)...)
	}
	if failed, err := noEquality(c.Build.Compare); err != nil || !failed {
		return nil, err
	}
	var byText []string
	for _, col := range c.Build.Compare {
		failed, err := noEquality([]string{col})
		if err != nil {
			return nil, err
		}
		if failed {
			byText = append(byText, col)
		}
	}
	return byText, nil
}

// dimensionPlaced is how scd2 model n's dimension sits on the Citus
// cluster when this build updates it there and it is distributed where
// its config puts it (materialize.SCD2.Beside); nil otherwise: off Citus,
// a reference table, a first build or a rebuild, or a dimension placed
// otherwise, which the build refuses once the source is staged.
func (e *Executor) dimensionPlaced(ctx context.Context, q postgres.Querier, n *manifest.Node, m materialize.Model) (*materialize.Placed, error) {
	if m.Dist == nil || m.Dist.Reference || e.FullRefresh {
		return nil, nil
	}
	kind, err := postgres.RelKind(ctx, q, n.Relation)
	if err != nil || kind != "table" {
		return nil, err
	}
	placed, err := e.placed(ctx, q, n.Relation)
	if err != nil || placed == nil || placed.Method != "distributed" {
		return nil, err
	}
	with, err := colocatedWith(ctx, q, *m.Dist)
	if err != nil {
		return nil, err
	}
	if _, _, ok := materialize.Wanted(m.Dist, *placed, with); !ok {
		return nil, nil
	}
	return placed, nil
}
