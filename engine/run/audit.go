package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/artifacts"
	"strata/engine/compile"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
)

// Write-audit-publish (docs/tests.md#write-audit-publish): the error-severity data tests of a model
// or seed (Executor.Audits) run inside its build's transaction against the
// new version, before it is published; one that fails or errors rolls the
// whole build back, so the previous version stays live and unchanged. The
// tests' results are the model's (Result.Audits): the walker reports them
// in place of running those tests again.

// AuditFailed is the response of a model or seed whose audit kept its
// previous version.
const AuditFailed = artifacts.AuditFailed

// auditResult is what an audit found.
type auditResult struct {
	tests   []Result
	blocked []string // the tests that failed or errored, as "name (why)"
	kept    []keptFailures
}

// keptFailures are the failing rows of a store_failures test in an audit
// that blocked the publish: read out of the transaction before it is
// rolled back, written to the audit table after.
type keptFailures struct {
	table pgname.Rel
	cols  []postgres.Column
	file  string // the rows as COPY text
}

// unscratched is err, a test's error on the new version of a model under
// its scratch name, with the model's own name in its place: PostgreSQL's
// hint read 'Perhaps you meant to reference the column
// "orders__strata_new.amount"', a name the reader never wrote.
func unscratched(err error, scratch, name string) error {
	var p *compile.Placed
	if errors.As(err, &p) {
		p.Diag.Msg = strings.ReplaceAll(p.Diag.Msg, scratch, name)
	}
	return err
}

// auditError is an audit that blocked the publish.
type auditError struct{ audit *auditResult }

func (e *auditError) Error() string {
	return fmt.Sprintf("%d of %d tests failed: %s", len(e.audit.blocked), len(e.audit.tests), strings.Join(e.audit.blocked, "; "))
}

// auditResults are the results of the tests of the last audit, if any.
func (b *builder) auditResults() []Result {
	if b.audit == nil {
		return nil
	}
	return b.audit.tests
}

// auditTest is one test of an audit, rendered against the new version.
type auditTest struct {
	n        *manifest.Node
	compiled string         // as target/compiled/ has it
	res      compile.Result // as rendered against the new version
	sql      string         // that, limited
	count    materialize.Step
	err      error
	// known: the detection (compile.Result.Detect) gave the count of
	// failures; ran are the statements that counted them.
	known bool
	ran   []string
	// took is how long the test's query ran when it failed.
	took time.Duration
}

// audit runs the tests that audit b's node against on, its new version, in
// t: the counts of all of them in one round trip, each under a savepoint so
// that one that errors does not stop the others. It returns an
// *auditError when one fails or errors.
func (e *Executor) audit(ctx context.Context, t *postgres.Txn, b *builder, on pgname.Rel) error {
	res := &auditResult{}
	b.audit = res
	var tests []auditTest
	for _, id := range e.Audits[b.n.ID] {
		tn := e.M.Nodes[id]
		at := auditTest{n: tn}
		at.res, at.err = e.render(tn, false)
		at.compiled = at.res.SQL
		if at.err == nil && on != b.n.Relation {
			at.res, at.err = e.C.Audit(tn, b.n.ID, on)
		}
		body := limited(tn, materialize.Step{SQL: materialize.Body(at.res.SQL)})
		at.sql = body.SQL
		at.count = testStatement("select count(*), extract(epoch from clock_timestamp())::text from (", body, "\n) as strata_failures")
		tests = append(tests, at)
	}
	results := make([]Result, len(tests))
	failures := make([]int64, len(tests))
	begin := time.Now()
	prev := float64(0)
	if err := e.detect(ctx, t, b, tests, results, failures); err != nil {
		return err
	}
	for i := 0; i < len(tests); {
		var stmts []string
		var idx []int
		for j := i; j < len(tests); j++ {
			if tests[j].err != nil || tests[j].known {
				continue
			}
			stmts = append(stmts, "savepoint strata_audit", tests[j].count.SQL, "release savepoint strata_audit")
			idx = append(idx, j)
		}
		if len(idx) == 0 {
			break
		}
		if i == 0 {
			stmts = append([]string{"select extract(epoch from clock_timestamp())::text"}, stmts...)
		}
		for _, s := range stmts {
			b.executed = append(b.executed, s)
		}
		rows, err := t.Values(ctx, stmts)
		if i == 0 && len(rows) > 0 {
			prev = epoch(rows[0])
			rows = rows[1:]
		}
		// rows[3k+1] is the count of tests[idx[k]].
		for k := 0; 3*k+1 < len(rows); k++ {
			j := idx[k]
			tests[j].ran = append(tests[j].ran, tests[j].count.SQL)
			n, cerr := postgres.Count(rows[3*k+1])
			if cerr != nil {
				tests[j].err = cerr
				continue
			}
			failures[j] = n
			at := epoch(rows[3*k+1][1:])
			results[j].Duration = time.Duration((at - prev) * float64(time.Second))
			prev = at
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var be *postgres.BatchError
		if !errors.As(err, &be) {
			return err
		}
		k := be.Index
		if i == 0 {
			k-- // the clock
		}
		if k < 0 || k%3 != 1 {
			return err
		}
		j := idx[k/3]
		// The statements after it in the batch did not run: they go again.
		tests[j].ran = append(tests[j].ran, tests[j].count.SQL)
		tests[j].err = e.sqlError(tests[j].n, tests[j].res, be.Err, tests[j].count)
		if on != b.n.Relation {
			tests[j].err = unscratched(tests[j].err, on.Name, b.n.Relation.Name)
		}
		b.executed = append(b.executed, "rollback to savepoint strata_audit", "release savepoint strata_audit")
		if err := t.RollbackTo(ctx, "strata_audit"); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, "release savepoint strata_audit"); err != nil {
			return err
		}
		i = j + 1
		failedFrom := prev // the end of the statement before it, or the batch's start
		prev = 0
		if rows, err := t.Values(ctx, []string{"select extract(epoch from clock_timestamp())::text"}); err == nil && len(rows) > 0 {
			prev = epoch(rows[0])
			if failedFrom > 0 {
				// How long it ran before it failed (a statement_timeout).
				tests[j].took = time.Duration((prev - failedFrom) * float64(time.Second))
			}
		}
	}
	blocked := false
	for j, at := range tests {
		r := Result{ID: at.n.ID, Started: begin, Duration: results[j].Duration}
		r.Compiled, r.Executed = e.writeSQL(at.n, at.compiled, at.ran)
		if at.n.Config.StoreFailures {
			r.Relation = e.auditTable(at.n)
		}
		if at.err != nil {
			r.Status, r.Message, r.Duration = Error, at.err.Error(), at.took
			res.blocked = append(res.blocked, fmt.Sprintf("%s (error: %s)", at.n.Name, firstLine(at.err.Error())))
			blocked = true
			res.tests = append(res.tests, r)
			continue
		}
		r = e.judge(ctx, guarded{t}, at.n, at.sql, failures[j], r)
		if r.Status == Fail {
			blocked = true
			res.blocked = append(res.blocked, fmt.Sprintf("%s (%s)", at.n.Name, strings.Replace(r.Message, "; see "+r.Compiled, "", 1)))
		}
		res.tests = append(res.tests, r)
	}
	// store_failures: the audit tables, in the transaction when it goes on;
	// read out of it when it is to be rolled back.
	for _, at := range tests {
		if !at.n.Config.StoreFailures || at.err != nil {
			continue
		}
		table := e.auditTable(at.n)
		if err := e.ensureSchema(ctx, table.Schema); err != nil {
			res.discardKept()
			return err
		}
		if !blocked {
			for _, s := range []string{"drop table if exists " + table.Quoted(), "create table " + table.Quoted() + " as " + at.sql} {
				b.queue(t, pending{step: materialize.Step{SQL: s, Body: -1}})
			}
			continue
		}
		k, err := keepFailures(ctx, t, table, at.sql)
		if err != nil {
			res.discardKept() // the build fails without an audit to write them
			return fmt.Errorf("reading the failing rows of test %s (%s) to keep them: %w", at.n.Name, at.n.Path, err)
		}
		res.kept = append(res.kept, k)
	}
	if !blocked {
		return nil
	}
	// The file under target/compiled/ reads the published relation, which
	// is kept: it does not hold the failing rows of the version thrown
	// away (an audit table of store_failures does).
	for i := range res.tests {
		if c := res.tests[i].Compiled; c != "" {
			res.tests[i].Message = strings.Replace(res.tests[i].Message, "; see "+c, "", 1)
		}
	}
	return &auditError{audit: res}
}

// detect asks the detections of the tests of an audit (datatest.Detect),
// those of one relation in one scan, all in one round trip, and marks
// known the tests whose count of failures they gave, with their count and
// time. A store_failures test keeps its own query (its rows are kept).
// When a detection fails (say, the column is not there) none counts: the
// tests' own queries then say what is wrong, each in its place.
func (e *Executor) detect(ctx context.Context, t *postgres.Txn, b *builder, tests []auditTest, results []Result, failures []int64) error {
	var froms []string
	groups := map[string][]int{}
	for j, at := range tests {
		d := at.res.Detect
		if at.err != nil || d.Expr == "" || at.n.Config.StoreFailures {
			continue
		}
		if _, ok := groups[d.From]; !ok {
			froms = append(froms, d.From)
		}
		groups[d.From] = append(groups[d.From], j)
	}
	if len(froms) == 0 {
		return nil
	}
	stmts := []string{"savepoint strata_detect", "select extract(epoch from clock_timestamp())::text"}
	for _, from := range froms {
		var exprs []string
		for _, j := range groups[from] {
			exprs = append(exprs, tests[j].res.Detect.Expr)
		}
		stmts = append(stmts, "select "+strings.Join(exprs, ", ")+", extract(epoch from clock_timestamp())::text from "+from)
	}
	stmts = append(stmts, "release savepoint strata_detect")
	rows, err := t.Values(ctx, stmts)
	b.executed = append(b.executed, stmts...)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var be *postgres.BatchError
		if !errors.As(err, &be) {
			return err
		}
		b.executed = append(b.executed, "rollback to savepoint strata_detect", "release savepoint strata_detect")
		if err := t.RollbackTo(ctx, "strata_detect"); err != nil {
			return err
		}
		_, err := t.Exec(ctx, "release savepoint strata_detect")
		return err
	}
	prev := epoch(rows[1])
	for g, from := range froms {
		row := rows[2+g]
		js := groups[from]
		at := epoch(row[len(js):])
		for k, j := range js {
			v, err := postgres.Count(row[k:])
			if err != nil {
				continue
			}
			tests[j].ran = append(tests[j].ran, stmts[2+g])
			tests[j].known, failures[j] = detected(tests[j].n, tests[j].res.Detect, v)
			results[j].Duration = time.Duration((at - prev) / float64(len(js)) * float64(time.Second))
		}
		prev = at
	}
	return nil
}

// epoch reads a time sent as extract(epoch ...) text.
func epoch(row []*string) float64 {
	if len(row) == 0 || row[0] == nil {
		return 0
	}
	f, _ := strconv.ParseFloat(*row[0], 64)
	return f
}

// limited is a test's SQL (body) with its limit config applied.
func limited(n *manifest.Node, body materialize.Step) materialize.Step {
	if n.Config.Limit > 0 {
		return testStatement("select * from (", body, fmt.Sprintf("\n) as strata_limited limit %d", n.Config.Limit))
	}
	return body
}

// discardKept removes the files of the failing rows read so far, when
// the build fails before they can be written to their audit tables.
func (a *auditResult) discardKept() {
	for _, k := range a.kept {
		os.Remove(k.file)
	}
	a.kept = nil
}

// keepFailures reads the rows of sql (a failing test's) out of t, with
// their columns, into a temporary file.
func keepFailures(ctx context.Context, t *postgres.Txn, table pgname.Rel, sql string) (keptFailures, error) {
	k := keptFailures{table: table}
	cols, err := postgres.ResultColumns(ctx, t, sql)
	if err != nil {
		return k, err
	}
	k.cols = cols
	f, err := os.CreateTemp("", "strata-failures-*.copy")
	if err != nil {
		return k, err
	}
	defer f.Close()
	k.file = f.Name()
	if _, err := t.Conn().PgConn().CopyTo(ctx, f, "copy (select * from ("+sql+"\n) as f) to stdout"); err != nil {
		os.Remove(k.file)
		return k, err
	}
	return k, nil
}

// failed is the result of a model or seed whose build failed: for an audit
// that blocked the publish, AUDIT FAILED, and the failing rows of
// store_failures tests written to their audit tables.
func (e *Executor) failed(ctx context.Context, r Result, b *builder, err error) Result {
	err = nullDistribution(b.n, err)
	var ae *auditError
	if !errors.As(err, &ae) {
		r = fail(r, err)
		r.Audits = nil // the tests did not decide: they run again, or are skipped
		return r
	}
	var notes []string
	for _, k := range ae.audit.kept {
		if kerr := e.writeKept(ctx, k); kerr != nil {
			notes = append(notes, fmt.Sprintf("the failing rows could not be kept in %s: %v", k.table, kerr))
		}
		os.Remove(k.file)
	}
	var what string
	switch {
	case b.fresh:
		what = r.Relation.String() + " " + artifacts.AuditNotCreated
	case b.keptView:
		// A view holds no rows: the one kept reads its tables as they are
		// now, so rows that failed because those tables hold them (a seed
		// or table published earlier) are what its readers see.
		what = "the previous definition of " + r.Relation.String() + " was kept; it is a view, so it shows the rows its tables hold now, failing ones included when they come from there"
	case b.n.Kind == manifest.Model && (b.n.Config.Materialized == "incremental" || b.n.Config.Materialized == "scd2"):
		what = "this run's changes to " + r.Relation.String() + " were rolled back: it is as it was before the run"
	default:
		what = "the previous version of " + r.Relation.String() + " was kept"
	}
	r.Status, r.Response = Error, AuditFailed
	r.Message = fmt.Sprintf("%s: %s; %s", AuditFailed, ae.Error(), what)
	if len(notes) > 0 {
		r.Message += "; " + strings.Join(notes, "; ")
	}
	// What to do next, as a run stopped by a lost server says it: retry
	// builds the node again and audits it with all its tests.
	r.Message += "; fix the data or the test, then `strata retry` builds it again and publishes it if its tests pass"
	r.Duration = time.Since(r.Started)
	return r
}

// writeKept writes failing rows read out of a rolled-back build to their
// audit table.
func (e *Executor) writeKept(ctx context.Context, k keptFailures) error {
	f, err := os.Open(k.file)
	if err != nil {
		return err
	}
	defer f.Close()
	defs := make([]string, len(k.cols))
	for i, c := range k.cols {
		defs[i] = pgname.Ident(c.Name) + " " + c.Type
	}
	return e.DB.BeginFunc(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "drop table if exists "+k.table.Quoted()+"; create table "+k.table.Quoted()+" ("+strings.Join(defs, ", ")+")"); err != nil {
			return err
		}
		_, err := tx.Conn().PgConn().CopyFrom(ctx, io.Reader(f), "copy "+k.table.Quoted()+" from stdin")
		return err
	})
}

// auditTable is the table a store_failures test keeps its failing rows in.
func (e *Executor) auditTable(n *manifest.Node) pgname.Rel {
	return e.M.FailuresTable(n)
}

// reader runs the reads that judge a failing test (its level, a sample).
type reader interface {
	query(ctx context.Context, sql string, scan func(pgx.Rows) error) error
}

// plain reads from the pool.
type plain struct{ q postgres.Querier }

func (p plain) query(ctx context.Context, sql string, scan func(pgx.Rows) error) error {
	rows, err := p.q.Query(ctx, sql)
	if err != nil {
		return err
	}
	return scan(rows)
}

// guarded reads in a build's transaction, under a savepoint, so that a
// read that errors leaves the transaction usable.
type guarded struct{ t *postgres.Txn }

func (g guarded) query(ctx context.Context, sql string, scan func(pgx.Rows) error) error {
	if _, err := g.t.Exec(ctx, "savepoint strata_judge"); err != nil {
		return err
	}
	rows, err := g.t.Query(ctx, sql)
	if err == nil {
		err = scan(rows)
	}
	if err != nil {
		if rerr := g.t.RollbackTo(ctx, "strata_judge"); rerr != nil {
			return rerr
		}
	}
	_, rerr := g.t.Exec(ctx, "release savepoint strata_judge")
	if err == nil {
		err = rerr
	}
	return err
}
