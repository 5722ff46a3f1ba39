package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
)

// tableRefusals holds a selected table or incremental model that
// PostgreSQL accepted against what its build would refuse before writing
// a row, from the columns its query returns (got) and, for an incremental
// load, the table's: a partition_by column that is missing or has no
// periods; then, for a load, a table partitioned otherwise than
// partition_by says, a unique_key column the table lacks, on_schema_change:
// fail with changed columns, and a type the table keeps (every mode but
// sync_all_columns) that PostgreSQL does not convert the query's values
// to, which a prepared insert finds without running. Each is placed at
// the config key it is about, in the words of the build.
func (c *checker) tableRefusals(ctx context.Context, tx pgx.Tx, j *job, got []Column) error {
	n := j.n
	mat := n.Config.Materialized
	if n.Kind != manifest.Model || mat != "table" && mat != "incremental" || c.opt.LeaveExisting {
		return nil
	}
	out := c.res.Nodes[n.ID]
	newCols := make([]materialize.Column, len(got))
	for i, g := range got {
		newCols[i] = materialize.Column{Name: g.Name, Type: g.Type}
	}
	refuse := func(err error) error {
		c.failWith(out, []diag.Diagnostic{c.atConfig(n, err)})
		return nil
	}
	if pb := n.Config.PartitionBy; pb != nil && pb.Column != "" && !c.opt.ColumnsOnly {
		if err := materialize.PartitionColumnError(*pb, newCols); err != nil {
			return refuse(err)
		}
	}
	t := j.built
	if !j.loads || c.opt.ColumnsOnly {
		return nil
	}
	aside := n.Relation.In(pgname.CheckedAside(n.Relation.Name))
	var column string
	var parts []string
	if t.kind == "partitioned_table" {
		err := c.db(func() (err error) { column, parts, err = postgres.PartitionKey(ctx, tx, aside); return err })
		if err != nil {
			return err
		}
	}
	if err := materialize.SamePartitioning(n.Relation, n.Config.PartitionBy, t.kind, column, parts); err != nil {
		return refuse(err)
	}
	strategy, err := materialize.Strategy(n.Config)
	if err != nil {
		return refuse(err)
	}
	adapt := materialize.AdaptColumns{Target: n.Relation, Mode: n.Config.OnSchemaChange, UniqueKey: n.Config.UniqueKey, Matches: strategy != "append"}
	if c.citus && !n.Config.Reference {
		adapt.DistributedBy = n.Config.DistributedBy
	}
	var dbErr error
	_, _, err = adapt.Steps(t.cols, newCols, func(from, to string) (ok bool, err error) {
		err = c.db(func() error { ok, err = postgres.CanCast(ctx, tx, from, to); return err })
		dbErr = err
		return ok, err
	})
	if dbErr != nil {
		return dbErr
	}
	if err != nil {
		return refuse(err)
	}
	if problems, err := c.dropReaders(ctx, tx, j, aside, newCols); err != nil || len(problems) > 0 {
		if err == nil {
			c.failWith(out, problems)
		}
		return err
	}
	kept := materialize.KeptTypes(n.Config.OnSchemaChange, t.cols, newCols)
	if len(kept) == 0 {
		return nil
	}
	// The columns whose type the table keeps are written into it by the
	// load as an insert writes them: a prepared insert of them into the
	// table set aside, from the model's view, is typed without running.
	names := make([]string, len(kept))
	for i, k := range kept {
		names[i] = pgname.Ident(k.Name)
	}
	list := strings.Join(names, ", ")
	stmt := fmt.Sprintf("insert into %s (%s) select %s from %s", aside.Quoted(), list, list, n.Relation.Quoted())
	const name = "strata_check_kept"
	var refused error
	err = c.db(func() error {
		if _, err := tx.Exec(ctx, "savepoint strata_kept"); err != nil {
			return err
		}
		if _, err := tx.Prepare(ctx, name, stmt); err != nil {
			var pg *pgconn.PgError
			if !errors.As(err, &pg) {
				return err
			}
			if _, err := tx.Exec(context.WithoutCancel(ctx), "rollback to savepoint strata_kept"); err != nil {
				return err
			}
			if pg.Code == "42804" {
				refused = materialize.NotConvertedError(n.Config.OnSchemaChange, kept, pg.Message, postgres.Explain(err, stmt, -1).Error())
			}
			return nil
		}
		if err := tx.Conn().Deallocate(ctx, name); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "release savepoint strata_kept")
		return err
	})
	if err != nil {
		return err
	}
	if refused != nil {
		return refuse(refused)
	}
	return nil
}

// dropReaders are the views that would fail the next load of selected
// incremental job j under on_schema_change: sync_all_columns, which drops
// the columns its query no longer returns (newCols) from its table (set
// aside by check as aside): the build drops the views on the table around
// the change and recreates them after, and a view that reads a dropped
// column cannot be recreated, so the build fails ('refusing to change
// ...'). Those are the views whose rules depend on a dropped column in
// pg_depend, but for the selected view models, which the build redefines
// with their new SQL: a view no strata model makes (by hand, another
// tool's), or a model that is not selected. Each is an error at
// on_schema_change, naming the view and the columns.
func (c *checker) dropReaders(ctx context.Context, tx pgx.Tx, j *job, aside pgname.Rel, newCols []materialize.Column) ([]diag.Diagnostic, error) {
	n := j.n
	if n.Config.OnSchemaChange != "sync_all_columns" {
		return nil, nil
	}
	var dropped []string
	for _, col := range j.built.cols {
		if !slices.ContainsFunc(newCols, func(k materialize.Column) bool { return k.Name == col.Name }) {
			dropped = append(dropped, col.Name)
		}
	}
	if len(dropped) == 0 {
		return nil, nil
	}
	var readers []postgres.ColumnReader
	err := c.db(func() (err error) { readers, err = postgres.ColumnReaders(ctx, tx, aside, dropped); return err })
	if err != nil {
		return nil, err
	}
	// The selected models' relations are set aside under check's names.
	redefined := map[pgname.Rel]bool{}
	models := map[pgname.Rel]*manifest.Node{}
	for _, m := range c.p.M.Nodes {
		if m.Kind != manifest.Model || m.Config.Materialized != "view" && m.Config.Materialized != "materialized_view" {
			continue
		}
		models[m.Relation.Kept()] = m
		if c.selected[m.ID] {
			redefined[m.Relation.In(pgname.CheckedAside(m.Relation.Name)).Kept()] = true
		}
	}
	var views []pgname.Rel
	cols := map[pgname.Rel][]string{}
	kinds := map[pgname.Rel]string{}
	for _, r := range readers {
		if redefined[r.View] {
			continue
		}
		if _, ok := cols[r.View]; !ok {
			views = append(views, r.View)
		}
		cols[r.View] = append(cols[r.View], r.Column)
		kinds[r.View] = r.Kind
	}
	var out []diag.Diagnostic
	for _, v := range views {
		what, it := "column "+cols[v][0], cols[v][0]
		if len(cols[v]) > 1 {
			what, it = "columns "+strings.Join(cols[v], ", "), strings.Join(cols[v], ", ")
		}
		fix := fmt.Sprintf("%s is no strata model: change or drop it first, or return %s from the model", v, it)
		if m := models[v]; m != nil {
			fix = fmt.Sprintf("%s is model %s, which is not selected: select it too (-s '%s %s') so that the build redefines it, or return %s from the model", v, m.Name, n.Name, m.Name, it)
		}
		err := fmt.Errorf("on_schema_change: sync_all_columns would drop %s of %s, which %s %s reads: the build would fail when it recreates that %s after the drop (refusing to change %s); %s",
			what, n.Relation, kinds[v], v, kinds[v], n.Relation, fix)
		out = append(out, c.atConfig(n, err))
	}
	return out, nil
}

// atConfig places err, which starts with the config key it is about
// ("unique_key: ..."), where n's config sets that key, else at the model.
func (c *checker) atConfig(n *manifest.Node, err error) diag.Diagnostic {
	pos := n.Pos
	if key, _, ok := strings.Cut(err.Error(), ":"); ok {
		if at, ok := n.ConfigPos[key]; ok && at.File != "" {
			pos = at
		}
	}
	return diag.Diagnostic{Pos: pos, Severity: diag.Error, Msg: err.Error()}
}
