package unittest

import (
	"context"
	"strings"

	"strata/engine/adapter/postgres"
	"strata/engine/compile"
	"strata/engine/materialize"
)

// fast runs the test in two round trips: one batch that begins the
// transaction, makes and fills the inputs, runs the model into a table,
// makes sure its columns have the types check found, loads the expected
// rows typed as those, and returns the difference; then the rollback. ok
// false means the batch failed or could not be planned (a column the
// catalog does not know, an scd2 model's output, an output of other
// types): the caller rolls back and runs the test step by step, which
// places each error in the user's files. Most tests pass, so
// most take two round trips instead of a dozen.
func (t *testRun) fast(ctx context.Context, conn *postgres.Conn) (Result, bool) {
	u := t.n.Unit
	predicted, known := t.r.Types[t.model.ID]
	if !known || t.model.Config.Materialized == "scd2" {
		return Result{}, false
	}
	inputs, _, ok := t.inputs()
	if !ok {
		return Result{}, false
	}
	var stmts []string
	relations := map[string]string{}
	for i, in := range inputs {
		rel := temp(inputName(i, t.r.M.Nodes[in.id].Name))
		relations[in.id] = rel.Quoted()
		stmts = append(stmts, createTable(rel, in.cols))
	}
	for i, in := range inputs {
		if in.given == nil {
			continue
		}
		if in.given.Format == "sql" {
			// The query's columns, which its rows fill by name, are known
			// only once it was described.
			return Result{}, false
		}
		rel := temp(inputName(i, t.r.M.Nodes[in.id].Name))
		if s := insertRows(rel, in.rows); s != "" {
			stmts = append(stmts, s)
		}
	}
	incremental := u.Overrides.IsIncremental != nil && *u.Overrides.IsIncremental
	rendered, err := t.compiler(relations).Node(t.model, compile.Options{IsIncremental: incremental})
	if err != nil {
		return Result{}, false
	}
	t.reads = &rendered.Reads
	byName := map[string]Column{}
	for _, c := range predicted {
		byName[c.Name] = c
	}
	e := &u.Expect
	var cols []Column
	switch {
	case e.Format == "sql":
		// The query's columns are known only once it ran.
		return Result{}, false
	case len(e.Columns) == 0:
		cols = predicted
	default:
		for _, c := range e.Columns {
			col, ok := byName[c]
			if !ok {
				return Result{}, false
			}
			cols = append(cols, col)
		}
	}
	body := materialize.Body(rendered.SQL)
	guard := sameTypes(predicted)
	if strings.Contains(body, typesTag) {
		return Result{}, false
	}
	// The output is compared as check typed the model, which is true of
	// the SQL check rendered; overrides (a var, a macro, the incremental
	// branch) may render SQL that returns other types, which the casts of
	// the comparison would convert (1.5 compared as an integer is 2): the
	// batch stops there, and the step-by-step run compares the output as
	// it is.
	t.executed = append(stmts, createActual(body).SQL, guard, diffInline(cols, arrayRows(e, cols)))
	batch := "begin;\n" + strings.Join(t.executed, ";\n")
	pg := conn.Conn().PgConn()
	results, err := pg.Exec(ctx, batch).ReadAll()
	defer func() { _ = pg.Exec(context.WithoutCancel(ctx), "rollback").Close() }()
	if err != nil || len(results) == 0 {
		return Result{}, false
	}
	last := results[len(results)-1]
	out := Result{Compiled: rendered.SQL, Executed: t.executed, Status: Pass}
	if len(last.Rows) == 0 {
		return out, true
	}
	rows := make([]DiffRow, len(last.Rows))
	for i, r := range last.Rows {
		rows[i].Side = string(r[0])
		for _, v := range r[1:] {
			if v == nil {
				rows[i].Values = append(rows[i].Values, nil)
				continue
			}
			s := string(v)
			rows[i].Values = append(rows[i].Values, &s)
		}
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	out.Status, out.Differing = Fail, int64(len(rows))
	out.Message = FormatDiff(names, rows, MaxDiffRows)
	return out, true
}
