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
// the config key it is about, in the words of the build. A view or
// materialized view model whose relation exists is swapped in as a table
// model is (when a column is dropped or retyped, create or replace view
// cannot redefine it): only the views on it are held against its new
// columns (viewBreaks).
func (c *checker) tableRefusals(ctx context.Context, tx pgx.Tx, j *job, got []Column) error {
	n := j.n
	mat := n.Config.Materialized
	view := mat == "view" || mat == "materialized_view"
	if n.Kind != manifest.Model || mat != "table" && mat != "incremental" && !view || c.opt.LeaveExisting {
		return nil
	}
	out := c.res.Nodes[n.ID]
	newCols := make([]materialize.Column, len(got))
	for i, g := range got {
		newCols[i] = materialize.Column{Name: g.Name, Type: g.Type}
	}
	refuse := func(err error) error {
		if !c.opt.ColumnsOnly { // plan says those in its own words
			c.failWith(out, []diag.Diagnostic{c.atConfig(n, err)})
		}
		return nil
	}
	if mat == "incremental" && j.built != nil && (j.loads || c.opt.FullRefresh) {
		// Before anything else, as the build refuses it first.
		if c.misplaced(n, out, j.loads); out.Status != OK {
			return nil
		}
	}
	if mat == "table" && j.built != nil {
		c.misplaced(n, out, false) // a note: the build rebuilds it where its config says
	}
	if pb := n.Config.PartitionBy; !view && pb != nil && pb.Column != "" && !c.opt.ColumnsOnly {
		if err := materialize.PartitionColumnError(*pb, newCols); err != nil {
			return refuse(err)
		}
	}
	if mat == "incremental" && !c.opt.ColumnsOnly {
		if err := materialize.UniqueKeyColumnsError(n.Config.UniqueKey, newCols); err != nil {
			return refuse(err)
		}
	}
	t := j.built
	if t == nil {
		return nil
	}
	aside := n.Relation.In(pgname.CheckedAside(n.Relation.Name))
	if !j.loads {
		// Built anew and swapped in.
		broken, err := c.viewBreaks(ctx, tx, j, aside, newCols, false)
		if err == nil {
			c.breaksViews(out, broken)
		}
		return err
	}
	if !c.opt.ColumnsOnly {
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
	steps, _, err := adapt.Steps(t.cols, newCols, func(from, to string) (ok bool, err error) {
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
	if materialize.RewritesColumns(steps) {
		if broken, err := c.viewBreaks(ctx, tx, j, aside, newCols, true); err != nil || len(broken) > 0 {
			if err == nil {
				c.breaksViews(out, broken)
			}
			return err
		}
	}
	if c.opt.ColumnsOnly {
		return nil
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

// viewBreaks are the views that would fail the next build of selected
// table or incremental job j, whose relation check set aside as aside,
// when the build rewrites its columns to those of its query (newCols):
// a swap (a table model, a --full-refresh), or under on_schema_change:
// sync_all_columns a load that drops and retypes columns in place
// (inPlace). Either way the build drops the views on the relation and
// recreates them on the new version, and fails ('refusing to replace
// ...', 'refusing to change ...') where one cannot be. A view that reads
// a column the new version lacks (in pg_depend) cannot: each is named
// with its columns. A view that reads a retyped column may or may not
// be: when one does, the views are recreated as the build would, on an
// empty table of the new columns, in a savepoint rolled back
// (postgres.ProveDependents), and the first that fails is named in the
// build's words. The selected view models are no error: the build
// redefines them with their new SQL (as this does). A view no strata
// model makes (by hand, another tool's) or a view model not selected
// is. Each is an error at on_schema_change (inPlace) or the model.
func (c *checker) viewBreaks(ctx context.Context, tx pgx.Tx, j *job, aside pgname.Rel, newCols []materialize.Column, inPlace bool) ([]viewBreak, error) {
	n := j.n
	var dropped, retyped, changed []string
	from := map[string]string{}
	for _, col := range j.built.cols {
		i := slices.IndexFunc(newCols, func(k materialize.Column) bool { return k.Name == col.Name })
		switch {
		case i < 0:
			dropped = append(dropped, col.Name)
		case newCols[i].Type != col.Type:
			retyped = append(retyped, col.Name)
			from[col.Name] = col.Type + " to " + newCols[i].Type
		default:
			continue
		}
		changed = append(changed, col.Name)
	}
	if len(changed) == 0 {
		return nil, nil
	}
	var readers []postgres.ColumnReader
	err := c.db(func() (err error) { readers, err = postgres.ColumnReaders(ctx, tx, aside, changed); return err })
	if err != nil {
		return nil, err
	}
	// The selected models' relations are set aside under check's names;
	// a view model the build would not build is named by its own.
	redefined := map[pgname.Rel]*manifest.Node{}
	models := map[pgname.Rel]*manifest.Node{}
	for _, m := range c.p.M.Nodes {
		if m.Kind != manifest.Model || m.Config.Materialized != "view" && m.Config.Materialized != "materialized_view" {
			continue
		}
		models[m.Relation.Kept()] = m
		if !c.selected[m.ID] {
			continue
		}
		aside := m.Relation.In(pgname.CheckedAside(m.Relation.Name)).Kept()
		if c.opt.Builds == nil || c.opt.Builds[m.ID] {
			redefined[aside] = m
		} else {
			models[aside] = m
		}
	}
	named := func(v pgname.Rel) pgname.Rel {
		if m := models[v.Kept()]; m != nil {
			return m.Relation
		}
		return v
	}
	var views []pgname.Rel
	cols := map[pgname.Rel][]string{}
	kinds := map[pgname.Rel]string{}
	// A view that is no error here reads a retyped column, or is a view
	// model the build redefines (its new SQL may lack or retype a column
	// a view on it reads, and the build recreates those too, so it
	// refuses this model: 'refusing to replace public.par: view rep.h2
	// ...').
	reads := false
	var lost []string // dropped columns that redefined view models read
	for _, r := range readers {
		if redefined[r.View] != nil {
			reads = true
			if slices.Contains(dropped, r.Column) && !slices.Contains(lost, r.Column) {
				lost = append(lost, r.Column)
			}
			continue
		}
		if !slices.Contains(dropped, r.Column) {
			reads = true
			continue
		}
		v := named(r.View)
		if _, ok := cols[v]; !ok {
			views = append(views, v)
		}
		cols[v] = append(cols[v], r.Column)
		kinds[v] = r.Kind
	}
	what := func(names []string) (string, string) {
		if len(names) > 1 {
			return "columns " + strings.Join(names, ", "), strings.Join(names, ", ")
		}
		return "column " + names[0], names[0]
	}
	fix := func(v pgname.Rel, it string) string {
		m := models[v]
		switch {
		case m != nil && c.selected[m.ID] && (c.opt.Builds == nil || c.opt.Builds[m.ID]):
			// Selected, and under its own name: its new SQL did not
			// check, so the build's swap, which redefines it with that
			// SQL, fails on it.
			why := "which the build redefines with its SQL: that SQL must not read the column"
			if cn := c.res.Nodes[m.ID]; cn != nil && cn.Status == Error {
				why = "which the build redefines with its SQL, and that SQL fails on the new version too (its own error says why)"
			}
			return fmt.Sprintf("%s is model %s, %s: change it, or %s", v, m.Name, why, it)
		case m != nil:
			return fmt.Sprintf("%s is model %s, which is not selected: select it too (-s '%s %s') so that the build redefines it, or %s", v, m.Name, n.Name, m.Name, it)
		}
		return fmt.Sprintf("%s is no strata model: change or drop it first, or %s", v, it)
	}
	verb, change, after := "replace", "the model's query no longer returns", "the swap"
	if inPlace {
		verb, change, after = "change", "on_schema_change: sync_all_columns would drop", "the drop"
	}
	var out []viewBreak
	for _, v := range views {
		list, it := what(cols[v])
		err := fmt.Errorf("%s %s of %s, which %s %s reads: the build would fail when it recreates that %s after %s (refusing to %s %s); %s",
			change, list, n.Relation, kinds[v], v, kinds[v], after, verb, n.Relation, fix(v, "return "+it+" from the model"))
		out = append(out, viewBreak{v, c.atConfig(n, err)})
	}
	if len(out) > 0 || !reads {
		return out, nil
	}
	// Recreated as the build recreates them, on a stand-in of the new
	// version: the relation set aside moves away for an empty table of
	// the query's columns, under its name, which their definitions read.
	stand := []string{
		materialize.RenameTo(aside, j.built.kind, pgname.CheckedStandIn(n.Relation.Name)).SQL,
		materialize.EmptyTable(aside, newCols).SQL,
	}
	redefine := postgres.Redefiner{SQL: func(v pgname.Rel) (string, bool) {
		m := redefined[v.Kept()]
		if m == nil || c.byID[m.ID] == nil || c.byID[m.ID].err != nil {
			return "", false
		}
		return materialize.Body(c.byID[m.ID].res.SQL), true
	}}
	err = c.db(func() error { return postgres.ProveDependents(ctx, tx, aside, stand, redefine) })
	var de *postgres.DependentError
	if !errors.As(err, &de) {
		return nil, err
	}
	de.Target, de.Verb = n.Relation, verb
	v := named(de.View)
	if m := redefined[de.View.Kept()]; m != nil {
		v = m.Relation
	}
	de.View = v
	// What changes: the dropped columns a view model the build redefines
	// reads, and the retyped ones.
	changes, keeps := "the model's query ", []string{}
	drop, retype := "no longer returns ", "changes the type of "
	if inPlace {
		changes, drop, retype = "on_schema_change: sync_all_columns would ", "drop ", "change the type of "
	}
	var parts []string
	if len(lost) > 0 {
		list, it := what(lost)
		parts = append(parts, drop+list)
		keeps = append(keeps, "return "+it+" from the model")
	}
	if len(retyped) > 0 {
		var types []string
		for _, r := range retyped {
			types = append(types, r+" ("+from[r]+")")
		}
		list, _ := what(types)
		parts = append(parts, retype+list)
		keep := "keep the type of " + retyped[0]
		if len(retyped) > 1 {
			keep = "keep the types of " + strings.Join(retyped, ", ")
		}
		keeps = append(keeps, keep+" in the model")
	}
	changes += strings.Join(parts, " and ")
	after = "the swap"
	if inPlace {
		after = "the change"
	}
	it := strings.Join(keeps, " and ")
	why := fix(v, it)
	if m := redefined[de.View.Kept()]; m != nil {
		why = fmt.Sprintf("%s is model %s, which the build redefines with its SQL on the new version: change that SQL", v, m.Name)
		if it != "" {
			why += ", or " + it
		}
	}
	// The database's error names the relations check set aside (a view
	// model redefined there, 'column chv__strata_checked.gone'): by their
	// own names, as the build's does.
	refusal := de.Refusal()
	for _, m := range redefined {
		refusal = strings.ReplaceAll(refusal, pgname.CheckedAside(m.Relation.Name), m.Relation.Name)
	}
	refusal = strings.ReplaceAll(refusal, pgname.CheckedAside(n.Relation.Name), n.Relation.Name)
	err = fmt.Errorf("%s of %s, and the build would fail when it recreates the views on it after %s: %s; %s",
		changes, n.Relation, after, refusal, why)
	return []viewBreak{{v, c.atConfig(n, err)}}, nil
}

// viewBreak is a view viewBreaks found that the build could not
// recreate, and check's error about it.
type viewBreak struct {
	view pgname.Rel
	d    diag.Diagnostic
}

// breaksViews fails out for the views in broken, or under ColumnsOnly
// keeps them in its ViewBreaks, where plan finds them.
func (c *checker) breaksViews(out *Node, broken []viewBreak) {
	if c.opt.ColumnsOnly {
		for _, b := range broken {
			out.ViewBreaks = append(out.ViewBreaks, ViewBreak{View: b.view.String(), Message: b.d.Msg})
		}
		return
	}
	problems := make([]diag.Diagnostic, len(broken))
	for i, b := range broken {
		problems[i] = b.d
	}
	c.failWith(out, problems)
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
