// Package unittest runs unit tests (docs/unit-tests.md) on the target's own
// PostgreSQL: each in a transaction of its own that is always rolled back,
// its given inputs temporary tables typed like the real parents (the types
// strata check read from the catalog, so nothing needs to be built), the
// model's SQL rendered as build would render it with each ref, source and
// this resolved to those tables, and its output compared with the
// expected rows in PostgreSQL, as multisets.
//
// It never commits and never prints: a Result says what happened, with
// the difference as text the CLI shows.
package unittest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/compile"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
	"strata/engine/project"
	"strata/engine/template"
)

// Runner runs the unit tests of one manifest.
type Runner struct {
	DB *postgres.Adapter
	M  *manifest.Manifest
	C  *compile.Compiler
	// Types are the columns of the nodes the tested models read, and of
	// the models themselves, by id; Missing says why a node has none (check
	// failed on it).
	Types   map[string][]Column
	Missing map[string]string
	// Rejected are the nodes of Missing that PostgreSQL rejected (the
	// others were not checked, a parent having failed).
	Rejected map[string]bool
}

// Status is how a unit test ended.
type Status string

const (
	Pass  Status = "pass"
	Fail  Status = "fail"
	Error Status = "error"
)

// Result is what running one unit test found.
type Result struct {
	Status Status
	// Message is the difference (Fail) or the error (Error), placed in
	// the user's files.
	Message string
	// Differing counts the rows only in expected plus those only in actual.
	Differing int64
	// Compiled is the model's SQL as the test rendered it; Executed the
	// statements sent.
	Compiled string
	Executed []string
}

// Run runs unit test n in a transaction on a connection of its own, and
// rolls it back.
func (r *Runner) Run(ctx context.Context, n *manifest.Node) (res Result) {
	defer func() {
		// Interrupted (Ctrl-C): whatever step it stopped in failed with
		// the context's error ("timeout: context already done", when the
		// one-batch path gave way to the step-by-step one), which says
		// nothing of what happened.
		if res.Status == Error && ctx.Err() != nil {
			res.Message = Cancelled
		}
	}()
	t := &testRun{r: r, n: n, model: r.M.Nodes[n.TestInfo.Attached]}
	if t.model == nil {
		return Result{Status: Error, Message: fmt.Sprintf("%s: unit test %s: model %s is not in the project", n.Pos, n.Name, n.Unit.Model)}
	}
	conn, err := r.DB.Acquire(ctx)
	if err != nil {
		return Result{Status: Error, Message: err.Error()}
	}
	defer conn.Release()
	if res, ok := t.fast(ctx, conn); ok {
		return t.unreadOverride(res)
	}
	t.executed = nil
	tx, err := conn.Begin(ctx)
	if err != nil {
		return Result{Status: Error, Message: err.Error()}
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	res = t.run(ctx, tx)
	res.Executed = t.executed
	return t.unreadOverride(res)
}

// unreadOverride turns res, a test that passed or failed, into an error
// when an override of a var or an environment variable was read by
// neither the model nor what it inlines: usually a misspelt name
// (treshold for threshold), which leaves the test testing the value the
// project gives.
func (t *testRun) unreadOverride(res Result) Result {
	if res.Status != Pass && res.Status != Fail || t.reads == nil {
		return res
	}
	o := t.n.Unit.Overrides
	for _, kind := range []struct {
		what      string
		overrides []string
		read      map[string]string
		pos       map[string]diag.Pos
	}{
		{"var", slices.Sorted(maps.Keys(o.Vars)), t.reads.Vars, o.VarPos},
		{"environment variable", slices.Sorted(maps.Keys(o.EnvVars)), t.reads.EnvVars, o.EnvVarPos},
	} {
		for _, name := range kind.overrides {
			if _, ok := kind.read[name]; ok {
				continue
			}
			read := slices.Sorted(maps.Keys(kind.read))
			reads := "it reads no " + kind.what
			if len(read) > 0 {
				reads = "it reads " + strings.Join(read, ", ")
			}
			pos := kind.pos[name]
			if pos.File == "" {
				pos = o.Pos
			}
			out := errorf(pos, "unit test %s overrides %s %q, which model %s does not read as the test renders it (%s): the override changes nothing%s", t.n.Name, kind.what, name, t.model.Name, reads, diag.DidYouMean(name, read))
			out.Compiled, out.Executed = res.Compiled, res.Executed
			return out
		}
	}
	return res
}

// Cancelled is the error of a unit test interrupted while it ran.
const Cancelled = "cancelled; its transaction was rolled back"

// testRun is one run of one unit test.
type testRun struct {
	r        *Runner
	n        *manifest.Node
	model    *manifest.Node
	executed []string
	// reads are the vars and environment variables the model read as the
	// test rendered it; nil until it is rendered.
	reads *template.Reads
}

func (t *testRun) exec(ctx context.Context, tx pgx.Tx, sql string) error {
	t.executed = append(t.executed, sql)
	_, err := tx.Exec(ctx, sql)
	return err
}

// errorf is a failed result placed at pos.
func errorf(pos diag.Pos, format string, args ...any) Result {
	return Result{Status: Error, Message: diag.Diagnostic{Pos: pos, Msg: fmt.Sprintf(format, args...)}.Error()}
}

// input is one of the model's inputs during the test.
type input struct {
	id    string
	given *project.UnitGiven // nil: not given, an empty table
	cols  []Column
	rel   string
	// rows are the given rows (not of format sql), lists made arrays
	// (arrayRows).
	rows *project.UnitRows
}

func (t *testRun) run(ctx context.Context, tx pgx.Tx) Result {
	u := t.n.Unit
	incremental := false
	if u.Overrides.IsIncremental != nil {
		incremental = *u.Overrides.IsIncremental
	}
	inputs, res, ok := t.inputs()
	if !ok {
		return res
	}
	// The tables first, in one round trip; then the rows, in another.
	relations := map[string]string{}
	var creates []string
	for i, in := range inputs {
		rel := temp(inputName(i, t.r.M.Nodes[in.id].Name))
		in.rel = rel.Quoted()
		relations[in.id] = in.rel
		creates = append(creates, createTable(rel, in.cols))
	}
	if len(creates) > 0 {
		if err := t.exec(ctx, tx, strings.Join(creates, ";\n")); err != nil {
			return Result{Status: Error, Message: fmt.Sprintf("%s: unit test %s: creating its inputs: %v", t.n.Pos, t.n.Name, err)}
		}
	}
	if _, err := tx.Exec(ctx, "savepoint strata_unit"); err != nil {
		return Result{Status: Error, Message: err.Error()}
	}
	var inserts []string
	for i, in := range inputs {
		if in.given == nil {
			continue
		}
		rel := temp(inputName(i, t.r.M.Nodes[in.id].Name))
		if in.given.Format == "sql" {
			cols, res, ok := t.queryColumns(ctx, tx, in)
			if !ok {
				return res
			}
			st := insertQuery(rel, cols, in.given.SQL)
			if err := t.exec(ctx, tx, st.SQL); err != nil {
				return t.rowsError(&in.given.UnitRows, "given "+in.given.Input, err, st)
			}
			continue
		}
		if s := insertRows(rel, in.rows); s != "" {
			inserts = append(inserts, s)
		}
	}
	if len(inserts) > 0 {
		if err := t.exec(ctx, tx, strings.Join(inserts, ";\n")); err != nil {
			return t.castError(ctx, tx, inputs, err)
		}
	}
	// The model, as build renders it, reading the inputs.
	c := t.compiler(relations)
	rendered, err := c.Node(t.model, compile.Options{IsIncremental: incremental})
	if err == nil {
		t.reads = &rendered.Reads
	}
	if err != nil {
		var d diag.Diagnostic
		if !errors.As(err, &d) {
			d = diag.Diagnostic{Pos: t.model.Pos, Msg: err.Error()}
		}
		return Result{Status: Error, Message: fmt.Sprintf("%s (rendering model %s for unit test %s)", d.Error(), t.model.Name, t.n.Name)}
	}
	st := createActual(materialize.Body(rendered.SQL))
	out := Result{Compiled: rendered.SQL}
	if err := t.exec(ctx, tx, st.SQL); err != nil {
		// Placed in the model's files, and at its line in the SQL the test
		// rendered (target/compiled/.../<test>.sql), which is not the
		// model's compiled file when the test renders the incremental branch
		// or gives an ephemeral input.
		placed := rendered.SQLError(t.n, postgres.Explain(err, st.SQL, st.Body))
		out.Status, out.Message = Error, fmt.Sprintf("%s (running model %s for unit test %s)", placed.Error(), t.model.Name, t.n.Name)
		return out
	}
	actual, err := postgres.Columns(ctx, tx, temp(actualName))
	if err != nil {
		out.Status, out.Message = Error, err.Error()
		return out
	}
	cols, res, ok := t.expected(ctx, tx, actual)
	if !ok {
		res.Compiled = out.Compiled
		return res
	}
	return t.compare(ctx, tx, cols, out)
}

// inputs are the tables the model reads during the test: each parent it
// reads and, for an incremental or scd2 model, its own table (this), given
// or empty, typed as the catalog has them.
func (t *testRun) inputs() ([]*input, Result, bool) {
	given := map[string]*project.UnitGiven{}
	for _, in := range t.r.M.UnitInputs(t.n) {
		given[in.ID] = in.Given
	}
	// An ephemeral parent that is given is a table like any other; one
	// that is not is inlined, as in a build, and reads its own parents.
	var ids []string
	seen := map[string]bool{}
	var visit func(n *manifest.Node)
	visit = func(n *manifest.Node) {
		for _, d := range n.DependsOn {
			dn := t.r.M.Nodes[d]
			if dn == nil || seen[d] {
				continue
			}
			seen[d] = true
			if dn.Ephemeral() && given[d] == nil {
				visit(dn)
				continue
			}
			ids = append(ids, d)
		}
	}
	visit(t.model)
	if m := t.model.Config.Materialized; m == "incremental" || m == "scd2" {
		ids = append(ids, t.model.ID)
	}
	// An input whose parent failed is not typed either: the failure
	// itself, which says what is wrong, is reported first.
	sort.SliceStable(ids, func(i, j int) bool {
		return t.r.Rejected[ids[i]] && !t.r.Rejected[ids[j]]
	})
	var out []*input
	for _, id := range ids {
		in := &input{id: id, given: given[id]}
		cols, ok := t.r.Types[id]
		if !ok {
			why := t.r.Missing[id]
			if why == "" {
				why = "strata check did not type it"
			}
			node := t.r.M.Nodes[id]
			at := t.n.Pos
			if in.given != nil {
				at = in.given.Pos
			}
			what := string(node.Kind) + " " + node.Name
			if id == t.model.ID {
				what = "this (model " + node.Name + ")"
			}
			return nil, errorf(at, "unit test %s: the columns of %s are not known: %s", t.n.Name, what, why), false
		}
		in.cols = cols
		if in.given != nil && in.given.Format != "sql" {
			if res, ok := checkColumns(t.n, &in.given.UnitRows, cols, "input "+in.given.Input); !ok {
				return nil, res, false
			}
			in.rows = arrayRows(&in.given.UnitRows, cols)
		}
		out = append(out, in)
	}
	return out, Result{}, true
}

// checkColumns refuses a column of rows that cols does not have.
func checkColumns(n *manifest.Node, rows *project.UnitRows, cols []Column, what string) (Result, bool) {
	names := make([]string, len(cols))
	has := map[string]bool{}
	for i, c := range cols {
		names[i] = c.Name
		has[c.Name] = true
	}
	for _, c := range rows.Columns {
		if !has[c] {
			return errorf(rows.ColPos[c], "unit test %s: %s has no column %q (it has %s)%s", n.Name, what, c, strings.Join(names, ", "), diag.DidYouMean(c, names)), false
		}
	}
	return Result{}, true
}

// compiler is the project's compiler with the test's inputs and overrides.
func (t *testRun) compiler(relations map[string]string) *compile.Compiler {
	c := *t.r.C.Inputs(relations)
	o := t.n.Unit.Overrides
	if len(o.Vars) > 0 {
		vars := make(map[string]any, len(c.Vars)+len(o.Vars))
		for k, v := range c.Vars {
			vars[k] = v
		}
		for k, v := range o.Vars {
			vars[k] = v
		}
		c.Vars = vars
	}
	if len(o.EnvVars) > 0 {
		base := c.LookupEnv
		c.LookupEnv = func(k string) (string, bool) {
			if v, ok := o.EnvVars[k]; ok {
				return v, true
			}
			if base == nil {
				return "", false
			}
			return base(k)
		}
	}
	if o.RunStartedAt != "" {
		c.RunStartedAt = o.RunStartedAt
	}
	if len(o.Macros) > 0 {
		c.Macros = o.Macros
	}
	return &c
}

// castError finds the given value that PostgreSQL refused, probing each
// against its column's type, and names its row and column.
func (t *testRun) castError(ctx context.Context, tx pgx.Tx, inputs []*input, err error) Result {
	if _, rerr := tx.Exec(context.WithoutCancel(ctx), "rollback to savepoint strata_unit"); rerr != nil {
		return Result{Status: Error, Message: err.Error()}
	}
	for _, in := range inputs {
		if in.given == nil || in.given.Format == "sql" {
			continue
		}
		if res, found := t.probeRows(ctx, tx, in.rows, in.cols, "given "+in.given.Input); found {
			return res
		}
	}
	return Result{Status: Error, Message: fmt.Sprintf("%s: unit test %s: loading its given rows: %v", t.n.Pos, t.n.Name, postgres.Explain(err, "", -1))}
}

// probeRows tries each value of rows as its column's type; found when one
// does not convert.
func (t *testRun) probeRows(ctx context.Context, tx pgx.Tx, rows *project.UnitRows, cols []Column, what string) (Result, bool) {
	typ := map[string]string{}
	for _, c := range cols {
		typ[c.Name] = c.Type
	}
	for i, row := range rows.Rows {
		for _, c := range rows.Columns {
			v := row.Values[c]
			if v == nil {
				continue
			}
			if _, err := tx.Exec(ctx, "savepoint strata_probe; "+probe(*v, typ[c])+"; release savepoint strata_probe"); err != nil {
				_, _ = tx.Exec(context.WithoutCancel(ctx), "rollback to savepoint strata_probe")
				msg := err.Error()
				var pg *pgconn.PgError
				if errors.As(err, &pg) {
					msg = pg.Message
				}
				at := row.Pos
				if p, ok := row.At[c]; ok {
					at = p
				}
				return errorf(at, "unit test %s: %s, row %d, column %s: %q is not a %s (%s)", t.n.Name, what, i+1, c, *v, typ[c], msg), true
			}
		}
	}
	return Result{}, false
}

// queryColumns are the columns that the query of a given input of format
// sql returns, each a column of the input (with "did you mean"), once.
func (t *testRun) queryColumns(ctx context.Context, tx pgx.Tx, in *input) ([]string, Result, bool) {
	g := in.given
	q := describeQuery(g.SQL)
	t.executed = append(t.executed, q.SQL)
	rows, err := tx.Query(ctx, q.SQL)
	if err == nil {
		var names []string
		for _, f := range rows.FieldDescriptions() {
			names = append(names, f.Name)
		}
		rows.Close()
		if err = rows.Err(); err == nil {
			has := map[string]bool{}
			all := make([]string, len(in.cols))
			for i, c := range in.cols {
				has[c.Name] = true
				all[i] = c.Name
			}
			seen := map[string]bool{}
			for _, c := range names {
				if seen[c] {
					return nil, errorf(g.UnitRows.Pos, "unit test %s: given %s: its query (format sql) returns column %q twice", t.n.Name, g.Input, c), false
				}
				seen[c] = true
				if !has[c] {
					return nil, errorf(g.UnitRows.Pos, "unit test %s: given %s: its query (format sql) returns column %q, which the input does not have (it has %s)%s", t.n.Name, g.Input, c, strings.Join(all, ", "), diag.DidYouMean(c, all)), false
				}
			}
			return names, Result{}, true
		}
	}
	return nil, t.rowsError(&g.UnitRows, "given "+g.Input, err, q), false
}

// rowsError reports a failed insert of rows of format sql, run as st, or
// of expected rows (st is zero). An error PostgreSQL places in the query
// is placed where it is in the query's file; any other at the rows.
func (t *testRun) rowsError(rows *project.UnitRows, what string, err error, st materialize.Step) Result {
	if st.SQL == "" {
		return errorf(rows.Pos, "unit test %s: %s: %v", t.n.Name, what, postgres.Explain(err, "", -1))
	}
	placed := postgres.Explain(err, st.SQL, st.Body)
	at := rows.Pos
	var pe *postgres.Error
	if errors.As(placed, &pe) && rows.SQLFile != "" {
		if off, ok := pe.Offset(); ok {
			at = queryPos(rows, off)
		}
	}
	return errorf(at, "unit test %s: %s: %v", t.n.Name, what, placed)
}

// queryPos is where character off (from 0) of the query of rows is in
// its file; an offset past the query is its end.
func queryPos(rows *project.UnitRows, off int) diag.Pos {
	b, n := len(rows.SQL), 0
	for i := range rows.SQL {
		if n == off {
			b = i
			break
		}
		n++
	}
	return rows.QueryPos(b)
}

// expected loads the expected rows, typed as the actual columns they
// name are compared (comparedType), and returns those actual columns (in
// the expected order).
func (t *testRun) expected(ctx context.Context, tx pgx.Tx, actual []Column) ([]Column, Result, bool) {
	e := &t.n.Unit.Expect
	what := "expect of model " + t.model.Name
	byName := map[string]Column{}
	for _, c := range actual {
		byName[c.Name] = c
	}
	if e.Format == "sql" {
		// The query's rows are compared as written values are: each
		// value as the query's column prints it, converted to the output
		// column's type (an expected 10.5 is no integer, where a cast of
		// the query's numeric would round it to 11).
		st := createExpectedQuery(e.SQL)
		if err := t.exec(ctx, tx, st.SQL); err != nil {
			return nil, t.rowsError(e, "expect (format sql)", err, st), false
		}
		written, err := textRows(ctx, tx, temp(expectedQueryName), e.Pos)
		if err != nil {
			return nil, Result{Status: Error, Message: err.Error()}, false
		}
		if res, ok := checkColumns(t.n, written, actual, "the output of model "+t.model.Name+" (its expect, format sql, names a column it"); !ok {
			return nil, res, false
		}
		e, what = written, "expect (format sql) of model "+t.model.Name
	} else if res, ok := checkColumns(t.n, e, actual, "the output of model "+t.model.Name); !ok {
		return nil, res, false
	}
	cols := make([]Column, len(e.Columns))
	for i, c := range e.Columns {
		cols[i] = byName[c]
	}
	if len(cols) == 0 {
		// rows: [] names no column: no row of any column is expected.
		cols = actual
	}
	typed := compared(cols)
	if err := t.exec(ctx, tx, createTable(temp(expectedName), typed)); err != nil {
		return nil, Result{Status: Error, Message: err.Error()}, false
	}
	if _, err := tx.Exec(ctx, "savepoint strata_expect"); err != nil {
		return nil, Result{Status: Error, Message: err.Error()}, false
	}
	rows := arrayRows(e, cols)
	if s := insertRows(temp(expectedName), rows); s != "" {
		if err := t.exec(ctx, tx, s); err != nil {
			if _, rerr := tx.Exec(context.WithoutCancel(ctx), "rollback to savepoint strata_expect"); rerr == nil {
				if res, found := t.probeRows(ctx, tx, rows, typed, what); found {
					return nil, res, false
				}
			}
			return nil, t.rowsError(e, what, err, materialize.Step{}), false
		}
	}
	return cols, Result{}, true
}

// textRows are the rows of rel as PostgreSQL prints them, all placed at
// pos, with format sql.
func textRows(ctx context.Context, tx pgx.Tx, rel pgname.Rel, pos diag.Pos) (*project.UnitRows, error) {
	cols, err := postgres.Columns(ctx, tx, rel)
	if err != nil {
		return nil, err
	}
	out := &project.UnitRows{Format: "sql", Pos: pos, ColPos: map[string]diag.Pos{}}
	sel := make([]string, len(cols))
	for i, c := range cols {
		out.Columns = append(out.Columns, c.Name)
		out.ColPos[c.Name] = pos
		sel[i] = "cast(" + pgname.Ident(c.Name) + " as text)"
	}
	if len(cols) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, "select "+strings.Join(sel, ", ")+" from "+rel.Quoted())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := project.UnitRow{Values: map[string]*string{}, Pos: pos}
		for i, c := range cols {
			row.Values[c.Name] = vals[i]
		}
		out.Rows = append(out.Rows, row)
	}
	return out, rows.Err()
}

// compare finds the rows only in expected and only in actual, in PostgreSQL.
func (t *testRun) compare(ctx context.Context, tx pgx.Tx, cols []Column, out Result) Result {
	q := diffQuery(cols)
	t.executed = append(t.executed, q)
	rows, err := tx.Query(ctx, q)
	if err != nil {
		out.Status, out.Message = Error, postgres.Explain(err, q, -1).Error()
		return out
	}
	var diff []DiffRow
	for rows.Next() {
		vals := make([]*string, len(cols)+1)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			out.Status, out.Message = Error, err.Error()
			return out
		}
		diff = append(diff, DiffRow{Side: *vals[0], Values: vals[1:]})
	}
	if err := rows.Err(); err != nil {
		out.Status, out.Message = Error, err.Error()
		return out
	}
	if len(diff) == 0 {
		out.Status = Pass
		return out
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	out.Status, out.Differing = Fail, int64(len(diff))
	out.Message = FormatDiff(names, diff, MaxDiffRows)
	return out
}

// MaxDiffRows is how many differing rows a failure shows.
const MaxDiffRows = 20

// DiffRow is a row only in expected (Side "-") or only in actual ("+");
// nil values are NULL.
type DiffRow struct {
	Side   string
	Values []*string
}

// FormatDiff shows differing rows as aligned columns under a header: "-"
// rows only in expected, "+" rows only in actual, at most max of them
// and a count of the rest. NULL shows as NULL; a text that would read as
// NULL, as nothing or without its spaces at an end in double quotes.
func FormatDiff(cols []string, rows []DiffRow, max int) string {
	minus, plus := 0, 0
	for _, r := range rows {
		if r.Side == "-" {
			minus++
		} else {
			plus++
		}
	}
	shown := rows
	if len(shown) > max {
		shown = shown[:max]
	}
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = textWidth(c)
	}
	cell := func(v *string) string {
		if v == nil {
			return "NULL"
		}
		s := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(*v)
		// A text that would read as another value (NULL, nothing, a
		// text quoted, or without its spaces) is quoted, as CSV quotes it.
		if s == "" || strings.EqualFold(s, "null") || strings.HasPrefix(s, `"`) || strings.TrimSpace(s) != s {
			return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
		return s
	}
	for _, r := range shown {
		for i, v := range r.Values {
			width[i] = maxInt(width[i], textWidth(cell(v)))
		}
	}
	line := func(side string, vals []string) string {
		var b strings.Builder
		b.WriteString(side + " ")
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(v)
			if i < len(vals)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-textWidth(v)))
			}
		}
		return strings.TrimRight(b.String(), " ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "actual differs from expected: %d row%s only in expected (-), %d only in actual (+)\n", minus, plural(minus), plus)
	b.WriteString(line(" ", cols))
	for _, r := range shown {
		vals := make([]string, len(r.Values))
		for i, v := range r.Values {
			vals[i] = cell(v)
		}
		b.WriteString("\n" + line(r.Side, vals))
	}
	if rest := len(rows) - len(shown); rest > 0 {
		fmt.Fprintf(&b, "\n... and %d more differing row%s", rest, plural(rest))
	}
	return b.String()
}

func textWidth(s string) int { return len([]rune(s)) }

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Selected are the nodes whose columns the unit tests among ids need: each
// tested model and every parent it reads; check types them.
func Selected(m *manifest.Manifest, ids []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		n := m.Nodes[id]
		if n == nil || !n.IsUnit() {
			continue
		}
		model := m.Nodes[n.TestInfo.Attached]
		if model == nil {
			continue
		}
		out[model.ID] = true
		for _, d := range m.UnitReads(model) {
			out[d] = true
		}
	}
	return out
}
