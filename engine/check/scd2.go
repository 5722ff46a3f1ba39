package check

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

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
// and a check_cols column it does not return fails the build.
func (c *checker) scd2Columns(n *manifest.Node, got []Column) {
	if n.Config.Materialized != "scd2" {
		return
	}
	book := c.scd2Build(n).Bookkeeping()
	var cols []string
	for _, g := range got {
		if !slices.Contains(book, g.Name) {
			cols = append(cols, g.Name)
		}
	}
	c.failWith(c.res.Nodes[n.ID], c.scd2Problems(n, cols))
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
