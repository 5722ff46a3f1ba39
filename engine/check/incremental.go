package check

import (
	"context"
	"errors"
	"fmt"
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
