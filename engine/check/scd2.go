package check

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/materialize"
)

// scd2Build is scd2 model n's build as check sees it.
func (c *checker) scd2Build(n *manifest.Node) materialize.SCD2 {
	return materialize.NewSCD2(materialize.Model{Rel: n.Relation, Config: n.Config}, n.Name, runStarted(c.p.C))
}

// scd2Problems are the problems a build would refuse scd2 model n for,
// given the columns its query returns (materialize.SCD2.SourceProblems):
// each placed where its config key is set, else at the model.
func (c *checker) scd2Problems(n *manifest.Node, cols []string) []diag.Diagnostic {
	d := c.scd2Build(n)
	d.Columns = cols
	var out []diag.Diagnostic
	for _, p := range d.SourceProblems() {
		pos := n.Pos
		if at, ok := n.ConfigPos[p.Key]; ok && at.File != "" {
			pos = at
		}
		out = append(out, diag.Diagnostic{Pos: pos, Severity: diag.Error, Msg: p.Msg})
	}
	return out
}

// scd2Columns holds a selected scd2 model that PostgreSQL accepted
// against its config: its view has the query's columns besides strata's,
// and a check_cols column it does not return fails the build. Then
// against the dimension as the database holds it: what a build would
// refuse of it (materialize.SCD2.Refused: another unique_key or
// scd2_columns, a retyped column, a view or a table another
// materialization built) fails it too, placed where the build places it.
// Not when typing the inputs of unit tests (LeaveExisting), which test
// the model's SQL wherever its table goes. The error is the database's.
func (c *checker) scd2Columns(ctx context.Context, tx pgx.Tx, j *job, got []Column) error {
	n := j.n
	if n.Config.Materialized != "scd2" {
		return nil
	}
	d := c.scd2Build(n)
	book := d.Bookkeeping()
	var cols []string
	var src []materialize.Column
	for _, g := range got {
		if !slices.Contains(book, g.Name) {
			cols = append(cols, g.Name)
			src = append(src, materialize.Column{Name: g.Name, Type: g.Type})
		}
	}
	out := c.res.Nodes[n.ID]
	c.failWith(out, c.scd2Problems(n, cols))
	if out.Status != OK || j.built == nil || c.opt.LeaveExisting {
		return nil
	}
	o := materialize.SCD2Observed{Source: src, Dimension: j.built.cols}
	if j.built.kind == "table" {
		// Its indexes kept their names when check renamed it aside.
		err := c.db(func() (err error) {
			o.HistoryKey, err = postgres.IndexColumns(ctx, tx, n.Relation.In(d.HistoryIndex()))
			return err
		})
		if err != nil {
			return err
		}
	}
	d.FullRefresh = c.opt.FullRefresh
	if path, err := d.Path(j.built.kind, d.FullRefresh); err == nil {
		// Where the table sits, before the update's own refusals, as
		// the build asks (an update), or what a rebuild does with it.
		if c.misplaced(n, out, path == materialize.SCD2Update); out.Status != OK {
			return nil
		}
	}
	if err := d.Refused(j.built.kind, o); err != nil {
		c.failWith(out, []diag.Diagnostic{c.atConfig(n, err)})
	}
	return nil
}

// scd2Refused is what a build would say of scd2 job j whose view
// PostgreSQL refused: its view names the unique_key and updated_at
// columns, and one the query does not return fails it with "column
// s.x does not exist", which names no config. The query is described
// (prepared, not run) for its columns; nil when it has no such problem,
// or cannot be described. The caller has rolled back to the job's
// savepoint, and this leaves the transaction there.
func (c *checker) scd2Refused(ctx context.Context, tx pgx.Tx, j *job) []diag.Diagnostic {
	if j.n.Kind != manifest.Model || j.n.Config.Materialized != "scd2" || j.res.SQL == "" {
		return nil
	}
	const name = "strata_check_scd2"
	var cols []string
	err := c.db(func() error {
		sd, err := tx.Prepare(ctx, name, "select * from (\n"+materialize.Body(j.res.SQL)+"\n) as s")
		if err != nil {
			return err
		}
		for _, f := range sd.Fields {
			cols = append(cols, f.Name)
		}
		return tx.Conn().Deallocate(ctx, name)
	})
	if err != nil {
		_ = c.db(func() error {
			_, err := tx.Exec(context.WithoutCancel(ctx), "rollback to savepoint strata_check")
			return err
		})
		return nil
	}
	return c.scd2Problems(j.n, cols)
}

// failWith records that out's node failed with problems, the first as its
// message; nothing when there are none.
func (c *checker) failWith(out *Node, problems []diag.Diagnostic) {
	if len(problems) == 0 {
		return
	}
	out.Status = Error
	out.Message = problems[0].Error()
	c.res.Diags = append(c.res.Diags, problems...)
}
