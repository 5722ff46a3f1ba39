package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"strata/engine/pgname"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/manifest"
	"strata/engine/materialize"
)

// scd2 builds a slowly changing dimension (SPEC 4) in one transaction: the
// model's query is staged into an unlogged table (dropped before commit) and
// indexed on its unique key, which checks the key (no NULL, no duplicate)
// before the dimension is touched; the first build makes every row current;
// later builds close the current version
// of changed and deleted keys and insert new versions, set-based. An advisory
// lock keeps two runs of one dimension from interleaving. The change times are
// described on materialize.SCD2.
func (e *Executor) scd2(ctx context.Context, n *manifest.Node, r Result) Result {
	compiled, err := e.render(n, false)
	if err != nil {
		return fail(r, err)
	}
	if err := e.ensureSchema(ctx, n.Relation.Schema); err != nil {
		return fail(r, err)
	}
	runTS := time.Now().UTC()
	if e.C.RunStartedAt != "" {
		if t, err := time.Parse(time.RFC3339Nano, e.C.RunStartedAt); err == nil {
			runTS = t
		}
	}
	d := scd2Spec(n, runTS)
	body := materialize.Body(compiled, e.Empty)
	var executed []string
	exec := func(ctx context.Context, q postgres.Querier, s materialize.Step) (int64, error) {
		executed = append(executed, s.SQL)
		tag, err := q.Exec(ctx, s.SQL)
		if err != nil {
			if s.Body >= 0 {
				return 0, e.sqlError(n, err, s)
			}
			return 0, fmt.Errorf("%s: %w", firstLine(s.SQL), postgres.Explain(err, s.SQL, 0))
		}
		return tag.RowsAffected(), nil
	}
	var response string
	var rows int64
	err = pgx.BeginFunc(ctx, e.DB.Pool, func(tx pgx.Tx) error {
		if _, err := exec(ctx, tx, d.Lock()); err != nil {
			return err
		}
		// The key check sorts the whole source and the one join of a later build
		// hashes it; give them the memory not to spill, for this transaction only.
		for _, q := range []string{"set local work_mem = '256MB'", "set local maintenance_work_mem = '256MB'"} {
			if _, err := exec(ctx, tx, materialize.Step{SQL: q, Body: -1}); err != nil {
				return err
			}
		}
		hookExec := func(ctx context.Context, q postgres.Querier, s materialize.Step) error {
			_, err := exec(ctx, q, s)
			return err
		}
		if err := e.runHooks(ctx, tx, n, "pre_hook", n.Config.PreHook, hookExec); err != nil {
			return err
		}
		staged, err := exec(ctx, tx, d.Stage(body))
		if err != nil {
			return err
		}
		src, err := postgres.Columns(ctx, tx, d.Source)
		if err != nil {
			return err
		}
		for _, c := range src {
			d.Columns = append(d.Columns, c.Name)
		}
		if err := d.CheckSource(n.Config.CheckCols); err != nil {
			return err
		}
		if err := e.scd2CheckKeys(ctx, tx, d, exec, &executed); err != nil {
			return err
		}
		kind, err := postgres.RelKind(ctx, tx, n.Relation)
		if err != nil {
			return err
		}
		if kind == "" || e.FullRefresh {
			if err := e.scd2Create(ctx, tx, n, d, kind, exec); err != nil {
				return err
			}
			rows = staged
			response = fmt.Sprintf("SCD2 %d new", staged)
			if e.FullRefresh && kind != "" {
				response += " (rebuilt: history dropped)"
			}
		} else {
			if kind != "table" {
				return fmt.Errorf("%s is a %s, not an scd2 dimension; drop it, or rebuild it with --full-refresh --full-refresh-scd2", n.Relation, strings.ReplaceAll(kind, "_", " "))
			}
			if e.Empty {
				// The query was checked against the database; an empty source must not delete every key.
				response = "SCD2 unchanged (--empty)"
			} else {
				stats, err := e.scd2Update(ctx, tx, n, d, src, exec, &executed)
				if err != nil {
					return err
				}
				rows = stats.inserted + stats.markers
				response = fmt.Sprintf("SCD2 %d new, %d changed, %d deleted", stats.inserted-stats.closed, stats.closed, stats.deleted)
			}
		}
		if _, err := exec(ctx, tx, d.DropStage()); err != nil {
			return err
		}
		return e.postHooks(ctx, tx, n, hookExec)
	})
	r.Compiled, r.Executed = e.writeSQL(n, compiled, executed)
	if err != nil {
		return fail(r, err)
	}
	r.Status = Success
	r.Response = response
	r.Rows = rows
	r.Duration = time.Since(r.Started)
	return r
}

// scd2Spec resolves an scd2 model's config, with its defaults.
func scd2Spec(n *manifest.Node, runTS time.Time) *materialize.SCD2 {
	c := n.Config
	d := &materialize.SCD2{
		Target:       n.Relation,
		Source:       materialize.SCD2Stage(n.Relation),
		Keys:         c.UniqueKey,
		UpdatedAt:    c.UpdatedAt,
		HardDeletes:  c.HardDeletes,
		ValidFrom:    "valid_from",
		ValidTo:      "valid_to",
		IsCurrent:    "is_current",
		SurrogateKey: materialize.DefaultSurrogateKey(n.Name),
		RunStartedAt: runTS,
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

// scd2CheckKeys refuses a source whose unique key has a NULL or a duplicate,
// before the dimension is touched. A unique index on the staged source
// checks for duplicates in one sort, and NULLs are then found through it;
// only when the index fails does the slower query of scd2Guards run, to
// name a duplicated key.
func (e *Executor) scd2CheckKeys(ctx context.Context, tx pgx.Tx, d *materialize.SCD2, exec stepExec, executed *[]string) error {
	const sp = "savepoint strata_scd2_keys"
	if _, err := exec(ctx, tx, materialize.Step{SQL: sp, Body: -1}); err != nil {
		return err
	}
	_, kerr := exec(ctx, tx, d.KeyIndex())
	var pg *pgconn.PgError
	if kerr != nil && (!errors.As(kerr, &pg) || pg.Code != "23505") { // unique_violation
		return kerr
	}
	if kerr != nil {
		if _, err := exec(ctx, tx, materialize.Step{SQL: "rollback to " + sp, Body: -1}); err != nil {
			return err
		}
	}
	if err := e.scd2Guards(ctx, tx, d, kerr != nil, executed); err != nil {
		return err
	}
	return kerr // the guards found nothing: say what the database said
}

// scd2Guards counts the NULLs in the source's unique key and, when
// duplicates were found, names the most duplicated value.
func (e *Executor) scd2Guards(ctx context.Context, tx pgx.Tx, d *materialize.SCD2, duplicates bool, executed *[]string) error {
	q := d.NullKeys()
	*executed = append(*executed, q)
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
	*executed = append(*executed, q)
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

type stepExec func(context.Context, postgres.Querier, materialize.Step) (int64, error)

// all runs steps in order and stops at the first error.
func (exec stepExec) all(ctx context.Context, q postgres.Querier, steps []materialize.Step) error {
	for _, s := range steps {
		if _, err := exec(ctx, q, s); err != nil {
			return err
		}
	}
	return nil
}

// scd2Create builds the dimension from scratch: on the first build, or on an
// allowed --full-refresh, under a temporary name swapped in so the views that
// depend on the dimension are kept.
func (e *Executor) scd2Create(ctx context.Context, tx pgx.Tx, n *manifest.Node, d *materialize.SCD2, kind string, exec stepExec) error {
	target := d.Target
	if kind == "" {
		if _, err := exec(ctx, tx, d.Create(target)); err != nil {
			return err
		}
	} else {
		tmp := pgname.Rel{Schema: target.Schema, Name: pgname.Temp(target.Name)}
		if _, err := exec(ctx, tx, materialize.DropIfExists(tmp, "table")); err != nil {
			return err
		}
		if _, err := exec(ctx, tx, d.Create(tmp)); err != nil {
			return err
		}
		if err := postgres.Swap(ctx, tx, n.Relation, tmp, "table"); err != nil {
			return err
		}
	}
	more, err := e.scd2Finish(ctx, tx, n, target, true)
	if err != nil {
		return err
	}
	return exec.all(ctx, tx, append(d.Indexes(), more...))
}

type scd2Stats struct{ inserted, closed, deleted, markers int64 }

// scd2Update applies one later build to an existing dimension.
func (e *Executor) scd2Update(ctx context.Context, tx pgx.Tx, n *manifest.Node, d *materialize.SCD2, src []postgres.Column, exec stepExec, executed *[]string) (scd2Stats, error) {
	var st scd2Stats
	if _, err := exec(ctx, tx, d.LockTable()); err != nil {
		return st, err
	}
	dim, err := postgres.Columns(ctx, tx, n.Relation)
	if err != nil {
		return st, err
	}
	have := map[string]string{} // column: type
	for _, c := range dim {
		have[c.Name] = c.Type
	}
	for _, b := range []string{d.SurrogateKey, d.ValidFrom, d.ValidTo, d.IsCurrent} {
		if _, ok := have[b]; !ok {
			return st, fmt.Errorf("%s has no column %q, so it is not an scd2 dimension built with this config (scd2_columns); rebuild it with --full-refresh --full-refresh-scd2, which drops its history", n.Relation, b)
		}
	}
	// The dimension's is_deleted is strata's deletion flag unless the model's
	// query has a column of that name (which hard_deletes new_record refuses):
	// then it is the user's.
	_, flag := have[materialize.IsDeletedColumn]
	d.Markers = flag && !slices.Contains(d.Columns, materialize.IsDeletedColumn)
	if err := scd2SameKey(ctx, tx, n, d); err != nil {
		return st, err
	}
	if err := scd2SameTypes(n, src, have); err != nil {
		return st, err
	}
	// A column new in the source is added; the versions before it get NULL.
	for _, c := range src {
		if _, ok := have[c.Name]; !ok {
			if _, err := exec(ctx, tx, d.AddColumn(c.Name, c.Type)); err != nil {
				return st, err
			}
			dim = append(dim, c)
			have[c.Name] = c.Type
		}
	}
	if d.HardDeletes == "new_record" && !d.Markers {
		if _, err := exec(ctx, tx, d.AddIsDeleted()); err != nil {
			return st, err
		}
		d.Markers = true
	}
	book := d.Bookkeeping()
	book = append(book, materialize.IsDeletedColumn)
	for _, c := range dim {
		if !slices.Contains(book, c.Name) {
			d.Carry = append(d.Carry, c.Name)
		}
	}
	d.Compare = nil
	if cc := n.Config.CheckCols; len(cc) > 0 && !slices.Contains(cc, "all") {
		d.Compare = cc
	} else {
		for _, c := range d.Columns {
			if !slices.Contains(d.Keys, c) {
				d.Compare = append(d.Compare, c)
			}
		}
	}
	if d.UpdatedAt == "" && len(d.Compare) > 0 {
		if d.ByText, err = scd2ByText(ctx, tx, d, exec); err != nil {
			return st, err
		}
	}
	before, after := d.ParallelChanges()
	if err := exec.all(ctx, tx, before); err != nil {
		return st, err
	}
	if st.inserted, err = exec(ctx, tx, d.Changes()); err != nil {
		return st, err
	}
	if err := exec.all(ctx, tx, after); err != nil {
		return st, err
	}
	if _, err = exec(ctx, tx, d.AnalyzeChanges()); err != nil {
		return st, err
	}
	if d.HardDeletes != "ignore" {
		q := d.CountGone()
		*executed = append(*executed, q)
		if err := tx.QueryRow(ctx, q).Scan(&st.deleted); err != nil {
			return st, postgres.Explain(err, q, 0)
		}
		st.inserted -= st.deleted
	}
	if st.closed, err = exec(ctx, tx, d.Close()); err != nil {
		return st, err
	}
	st.closed -= st.deleted
	if _, err = exec(ctx, tx, d.Insert()); err != nil {
		return st, err
	}
	if d.HardDeletes == "new_record" {
		if st.markers, err = exec(ctx, tx, d.InsertDeleted()); err != nil {
			return st, err
		}
	}
	more, err := e.scd2Finish(ctx, tx, n, d.Target, false)
	if err != nil {
		return st, err
	}
	return st, exec.all(ctx, tx, more)
}

// scd2SameKey refuses a unique_key other than the one the dimension was
// built with, which its history index records: with another key every
// entity would get a second current version. A dimension without that
// index (dropped by hand) is not checked.
func scd2SameKey(ctx context.Context, tx pgx.Tx, n *manifest.Node, d *materialize.SCD2) error {
	built, err := postgres.IndexColumns(ctx, tx, pgname.Rel{Schema: d.Target.Schema, Name: d.HistoryIndex()})
	if err != nil || len(built) == 0 {
		return err
	}
	want := append(slices.Clone(d.Keys), d.ValidFrom)
	if slices.Equal(built, want) {
		return nil
	}
	was := built
	if len(was) > 0 && was[len(was)-1] == d.ValidFrom {
		was = was[:len(was)-1]
	}
	return fmt.Errorf("%s was built with unique_key (%s) but the config now says (%s); with another key every entity would get a second current version. Keep the key, or rebuild the dimension with --full-refresh --full-refresh-scd2, which drops its history",
		n.Relation, strings.Join(was, ", "), strings.Join(d.Keys, ", "))
}

// scd2SameTypes refuses source columns whose type differs from the
// dimension's, all of them in one error: their values would be cast into
// the old type (losing precision, or failing), and then differ from the
// source again at every build.
func scd2SameTypes(n *manifest.Node, src []postgres.Column, dim map[string]string) error {
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
		n.Relation, strings.Join(changed, "; "))
}

// scd2ByText finds the compared columns the database has no equality for
// between source and dimension: one probe of them all, planned without
// reading a row, and only when it fails one per column, each under a
// savepoint, since a failed statement aborts the transaction.
func scd2ByText(ctx context.Context, tx pgx.Tx, d *materialize.SCD2, exec stepExec) ([]string, error) {
	const sp = "savepoint strata_scd2_compare"
	noEquality := func(cols []string) (bool, error) {
		if _, err := exec(ctx, tx, materialize.Step{SQL: sp, Body: -1}); err != nil {
			return false, err
		}
		_, perr := exec(ctx, tx, materialize.Step{SQL: d.CompareProbe(cols), Body: -1})
		var pg *pgconn.PgError
		if perr != nil && (!errors.As(perr, &pg) || pg.Code != "42883") { // undefined_function
			return false, perr
		}
		undo := []materialize.Step{{SQL: "release " + sp, Body: -1}}
		if perr != nil {
			undo = append([]materialize.Step{{SQL: "rollback to " + sp, Body: -1}}, undo...)
		}
		return perr != nil, exec.all(ctx, tx, undo)
	}
	if failed, err := noEquality(d.Compare); err != nil || !failed {
		return nil, err
	}
	var byText []string
	for _, c := range d.Compare {
		failed, err := noEquality([]string{c})
		if err != nil {
			return nil, err
		}
		if failed {
			byText = append(byText, c)
		}
	}
	return byText, nil
}

// scd2Finish completes the dimension after a build: the configured indexes,
// after the first build statistics (downstream models read it right away;
// later builds change too little to need them before autovacuum comes), and
// grants and comment kept in sync with the config like any other model's
// (what the config no longer grants is revoked).
func (e *Executor) scd2Finish(ctx context.Context, tx pgx.Tx, n *manifest.Node, target pgname.Rel, first bool) ([]materialize.Step, error) {
	steps := materialize.Indexes(target, target.Name, n.Config.Indexes)
	if first {
		steps = append(steps, materialize.Step{SQL: "analyze " + target.Quoted(), Body: -1})
	}
	more, err := e.grantsAndComment(ctx, tx, n, target, "table")
	return append(steps, more...), err
}
