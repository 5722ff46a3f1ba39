package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/compile"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
)

// builder builds one model: it executes the plan materialize made, in one
// transaction, reading from the database what the plan's ops need, and
// records every statement it sends, for target/run/. The statements of a
// part go out together, in one round trip unless a read comes between them.
type builder struct {
	e *Executor
	n *manifest.Node
	// res is the model as rendered for this build, to place errors in its SQL.
	res      compile.Result
	executed []string
	// What the ops read or counted on the way, for the ops after them.
	counts       map[materialize.Counter]int64
	parts        []materialize.Partition // from Partitions
	cols         []string                // from AdaptColumns
	staged       []materialize.Column    // the staged rows' columns, from AdaptColumns
	kept         []materialize.KeptType  // columns whose type the query changed and the table keeps, from AdaptColumns
	redefined    []pgname.Rel            // dependents created from their new SQL (Redefiner.Done)
	byText       []string                // from CompareByText
	concurrently bool                    // from Refresh
	// pending are the statements queued on the transaction, not sent yet.
	pending []pending
	// audit is what the audit found (Audit), tests' results included.
	audit *auditResult
	// waited is how long the build waited for readers' locks.
	waited time.Duration
	// incremental: the build loads the model's existing table, and its
	// hooks render with is_incremental true, as the model does.
	incremental bool
	// fresh: the model's relation did not exist before the build (as the
	// catalog saw it), so a failure keeps no previous version; keptView:
	// it was a view, which a failure keeps (whatever the model builds now).
	fresh, keptView bool
	// yieldedOn is the error a queued statement yielded on.
	yieldedOn error
	// part is the plan's part being run; failedEarlier: the statement
	// that failed the last flush was queued by an earlier part (one whose
	// statements went out with this one's).
	part          int
	failedEarlier bool
}

// pending is a statement queued on the transaction: the count it keeps,
// whether its failure may yield, and for a hook which hook it is, so that
// an error is placed where it is configured.
type pending struct {
	step  materialize.Step
	count materialize.Counter
	yield bool
	hook  string // pre_hook or post_hook
	// merge: the statement applies an incremental model's rows (mergeError).
	merge *materialize.Merge
	index int
	res   compile.Result
	part  int // the part of the plan that queued it
}

func (e *Executor) builder(n *manifest.Node) *builder {
	return &builder{e: e, n: n, counts: map[materialize.Counter]int64{}}
}

// queue adds a statement to send with the next flush.
func (b *builder) queue(t *postgres.Txn, p pending) {
	if !t.Begun() && t.Queued() == 0 {
		b.executed = append(b.executed, "begin") // sent with it
	}
	b.executed = append(b.executed, p.step.SQL)
	p.part = b.part
	b.pending = append(b.pending, p)
	t.Queue(p.step.SQL)
}

// flush sends the queued statements (with the commit when commit is set)
// and keeps their counts. A failure names the statement; failed is it.
func (b *builder) flush(ctx context.Context, t *postgres.Txn, commit bool) (failed *pending, err error) {
	sent := b.pending
	b.pending = nil
	var tags []pgconn.CommandTag
	if commit {
		if t.Begun() || t.Queued() > 0 {
			b.executed = append(b.executed, "commit")
		}
		tags, err = t.FlushCommit(ctx)
	} else {
		tags, err = t.Flush(ctx)
	}
	for i, p := range sent {
		if p.count != materialize.NoCount && i < len(tags) {
			b.counts[p.count] = tags[i].RowsAffected()
		}
	}
	if err == nil {
		return nil, nil
	}
	var be *postgres.BatchError
	if errors.As(err, &be) && be.Index >= 0 && be.Index < len(sent) {
		p := sent[be.Index]
		b.failedEarlier = p.part < b.part
		if p.hook != "" {
			return &p, hookPlaced(b.e.C.ModelHookError(b.n, p.hook, p.index, p.res, postgres.Explain(be.Err, p.step.SQL, 0)))
		}
		if p.merge != nil {
			return &p, b.mergeError(*p.merge, p.step, be.Err)
		}
		return &p, b.stepError(p.step, be.Err)
	}
	return nil, err
}

// mergeError explains a failed statement that applies an incremental
// model's rows: a merge that met two new rows for a key of the table, or,
// when the statement runs the model's query (Merge.Query), an error of the
// query, placed at the model as an error of its staging was.
func (b *builder) mergeError(m materialize.Merge, s materialize.Step, err error) error {
	if m.Strategy == "merge" && sqlstateIn(err, []string{"21000"}) {
		return b.res.SQLError(b.n, fmt.Errorf("unique_key (%s): the model's new rows have two rows for one key of the table, and a merge cannot update a row twice; make the key unique in the query (%s)",
			strings.Join(m.Key, ", "), postgres.Explain(err, s.SQL, 0).Error()))
	}
	if len(b.kept) > 0 && sqlstateIn(err, []string{"42804"}) {
		mode := b.n.Config.OnSchemaChange
		if mode == "" {
			mode = "ignore"
		}
		var pe *pgconn.PgError
		msg := ""
		if errors.As(err, &pe) {
			msg = pe.Message
		}
		return b.placeAtConfig(materialize.NotConvertedError(mode, b.kept, msg, postgres.Explain(err, s.SQL, 0).Error()))
	}
	if m.Query {
		// No position: one would be in the statement, not in the model.
		return b.e.sqlError(b.n, b.res, err, materialize.Step{SQL: s.SQL, Body: len([]rune(s.SQL)) + 1})
	}
	return b.stepError(s, err)
}

// queueRecord queues the statement that records the model in the
// target's state, to commit with what built it.
func (b *builder) queueRecord(t *postgres.Txn) {
	for _, sql := range b.records() {
		b.queue(t, pending{step: materialize.Step{SQL: sql, Body: -1}})
	}
}

// records are the statements that record the model, and the tests that
// audited it, in the target's state.
func (b *builder) records() []string {
	if b.e.Record == nil {
		return nil
	}
	var out []string
	if sql := b.e.Record(b.n, "success"); sql != "" {
		out = append(out, sql)
	}
	for _, a := range b.auditResults() {
		n := b.e.M.Nodes[a.ID]
		if n == nil || a.Status != Pass && a.Status != Warn && a.Status != Fail {
			continue
		}
		if sql := b.e.Record(n, string(a.Status)); sql != "" {
			out = append(out, sql)
		}
	}
	return out
}

// stepError names what failed: the model's SQL placed in its own file,
// the config that set a statement (grants, indexes) placed where it is set,
// or the first line of a statement strata wrote.
func (b *builder) stepError(s materialize.Step, err error) error {
	if s.Body >= 0 {
		return b.e.sqlError(b.n, b.res, err, s)
	}
	return b.e.configError(b.n, s, err)
}

// placeAtConfig places an error about a config key (its message starts
// with "key:") where that key is set, when it is set in a file.
func (b *builder) placeAtConfig(err error) error {
	return placeAtConfig(b.n, err)
}

// placeAtConfig places err, which starts with the config key it is about
// ("indexes: ..."), where n's config sets that key.
func placeAtConfig(n *manifest.Node, err error) error {
	key, _, ok := strings.Cut(err.Error(), ":")
	if !ok {
		return err
	}
	if pos, ok := n.ConfigPos[key]; ok && pos.File != "" {
		return &placedError{Pos: pos, Err: err}
	}
	return err
}

// configError names a statement strata wrote that failed: placed at the
// config that set it (grants, indexes), or by its first line.
func (e *Executor) configError(n *manifest.Node, s materialize.Step, err error) error {
	if s.Config != "" {
		if pos, ok := n.ConfigPos[s.Config]; ok && pos.File != "" {
			published := publishedNames(n)
			return &placedError{Pos: pos, Err: fmt.Errorf("%s: %s: %w", s.Config, published.Replace(firstLine(s.SQL)),
				renamedError{published.Replace(postgres.Explain(err, s.SQL, 0).Error()), err})}
		}
	}
	return execError(s, err)
}

// publishedNames shows a statement on the new version of n's relation,
// which runs under its temporary name (its indexes too, until the swap
// renames them), and the database's error about it, as on the relation
// itself: the user configured grants and indexes for it and knows no
// other names.
func publishedNames(n *manifest.Node) *strings.Replacer {
	rel := n.Relation
	if rel.Name == "" {
		return strings.NewReplacer()
	}
	temp := pgname.Temp(rel.Name)
	pairs := []string{rel.In(temp).Quoted(), rel.Quoted()}
	for _, ix := range n.Config.Indexes {
		pairs = append(pairs, pgname.Ident(materialize.IndexName(temp, ix)), pgname.Ident(materialize.IndexName(rel.Name, ix)))
	}
	return strings.NewReplacer(pairs...)
}

// renamedError is err with its text shown under other names; it is still
// err to errors.As (a *pgconn.PgError's code, a lost connection).
type renamedError struct {
	text string
	err  error
}

func (e renamedError) Error() string { return e.text }
func (e renamedError) Unwrap() error { return e.err }

// execError names a statement strata wrote by its first line.
func execError(s materialize.Step, err error) error {
	return fmt.Errorf("%s: %w", firstLine(s.SQL), postgres.Explain(err, s.SQL, 0))
}

// placedError is an error whose place is not the node's own file: the
// config that caused it, in YAML or project.yaml.
type placedError struct {
	Pos diag.Pos
	Err error
}

func (e *placedError) Error() string { return e.Pos.String() + ": " + e.Err.Error() }
func (e *placedError) Unwrap() error { return e.Err }

// rollback replaces, in the record of executed statements, the statements
// from mark on (a transaction, or a part of it, that was rolled back) with a
// note, so target/run/ still replays to what strata built.
func (b *builder) rollback(mark int, why string) {
	b.executed = append(b.executed[:mark], "-- rolled back: "+strings.ReplaceAll(why, "\n", " ")+"\n-- then:")
}

func (b *builder) run(ctx context.Context, q postgres.Querier, steps ...materialize.Step) error {
	for _, s := range steps {
		b.executed = append(b.executed, s.SQL)
		if _, err := q.Exec(ctx, s.SQL); err != nil {
			return b.stepError(s, err)
		}
	}
	return nil
}

func (e *Executor) model(ctx context.Context, n *manifest.Node) Result {
	start := time.Now()
	r := Result{Started: start, Relation: n.Relation}
	mat := n.Config.Materialized
	if mat == "ephemeral" {
		res, err := e.render(n, false)
		if err != nil {
			return fail(r, err)
		}
		r.Compiled, _ = e.writeSQL(n, res.SQL, nil)
		if err := e.record(ctx, e.DB.Shared(), n, "success"); err != nil {
			return fail(r, err)
		}
		r.Status, r.Response, r.Did = Success, "ephemeral, inlined where used", "compiled"
		return r
	}
	if mat == "scd2" {
		return e.scd2(ctx, n, r)
	}
	switch mat {
	case "view", "table", "incremental", "materialized_view":
	default:
		return fail(r, fmt.Errorf("materialized: %s is not built by this version of strata", mat))
	}
	if err := e.ensureSchema(ctx, n.Relation.Schema); err != nil {
		return fail(r, err)
	}
	cat, err := e.catalog(ctx)
	if err != nil {
		return fail(r, err)
	}
	o, err := e.observe(ctx, cat, n)
	if err != nil {
		return fail(r, err)
	}
	fullRefresh := e.FullRefresh || mat == "materialized_view" && e.rebuildsRedefined(n)
	if e.WasSCD2[n.ID] && (o.Existing == "table" || o.Existing == "partitioned_table") {
		if !e.FullRefreshSCD2 {
			return fail(r, e.builder(n).placeAtConfig(materialize.SCD2Replaced(n.Relation, mat)))
		}
		// The dimension is replaced: an incremental model is built whole,
		// not merged into the versions (their keys repeat, and the
		// dimension's own columns would stay).
		fullRefresh = true
	}
	incremental := materialize.BuildsIncrementally(mat, o.Existing, fullRefresh)
	res, err := e.render(n, incremental)
	if err != nil {
		return fail(r, err)
	}
	sql := res.SQL
	b := e.builder(n)
	b.res, b.incremental = res, incremental
	b.fresh, b.keptView = o.Existing == "", o.Existing == "view"
	m, err := e.modelFor(ctx, n)
	if err != nil {
		return fail(r, err)
	}
	plan, err := materialize.PlanModel(m, materialize.Body(sql), o, fullRefresh)
	if err != nil {
		err = b.placeAtConfig(err)
	}
	var done materialize.Plan
	if err == nil {
		done, err = b.execute(ctx, plan)
	}
	r.Compiled, r.Executed = e.writeSQL(n, sql, b.executed)
	r.Audits = b.auditResults()
	if err != nil {
		return e.failed(ctx, r, b, err)
	}
	e.redefinedAsBuilt(b)
	cat.Built(n.Relation, done.Kind)
	cat.Gone(n.Relation.In(pgname.Temp(n.Relation.Name)))
	for _, l := range o.Leftovers {
		cat.Gone(l.Rel)
	}
	if done.Kind == "view" || done.Kind == "materialized_view" {
		for _, id := range n.DependsOn {
			if p := e.M.Nodes[id]; p != nil && p.Relation.Name != "" {
				cat.ReadBy(p.Relation)
			}
		}
	}
	r.Status = Success
	r.Rows = b.counts[materialize.Rows] + b.counts[materialize.Updated]
	r.Response, r.Did = done.Response, done.Did
	if strings.Contains(r.Response, "%d") {
		r.Response = fmt.Sprintf(r.Response, r.Rows)
	}
	if b.concurrently {
		r.Response += " CONCURRENTLY"
	}
	r.Response += waitedFor(b.waited)
	r.Duration = time.Since(start)
	return r
}

// waitedFor notes, in a response, that a build waited for readers.
func waitedFor(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf(" (waited %s for readers)", d.Round(10*time.Millisecond))
}

// execute runs plan in one transaction, or what its first part gives way
// to in another, and returns the plan that ran to its end.
func (b *builder) execute(ctx context.Context, p materialize.Plan) (materialize.Plan, error) {
	citus, err := b.e.onCitus(ctx)
	if err != nil {
		return p, err
	}
	conn, err := b.e.DB.Acquire(ctx)
	if err != nil {
		return p, err
	}
	defer conn.Release()
	for {
		t := newTxn(conn.Conn(), citus)
		done, instead, err := b.transaction(ctx, t, p)
		if err != nil {
			_ = t.Rollback(ctx)
			b.pending = nil
		}
		if instead == nil {
			return done, err
		}
		p = *instead
	}
}

// outcome is how ops ended.
type outcome int

const (
	ran outcome = iota
	// yielded: an Exec marked Yield failed with one of the codes to yield
	// on, or SameDefinition found the definition changed: the part is to
	// be undone and its Else run instead.
	yielded
)

// transaction runs p's parts in t. instead, when not nil, is the plan its
// first part gave way to: t was rolled back, and instead is to run in a
// transaction of its own.
func (b *builder) transaction(ctx context.Context, t *postgres.Txn, p materialize.Plan) (done materialize.Plan, instead *materialize.Plan, err error) {
	parts := p.Parts
	for i := 0; i < len(parts); i++ {
		part := parts[i]
		savepoint := ""
		if i > 0 && (part.Publish || len(part.Yield) > 0 || part.Else != nil) {
			savepoint = fmt.Sprintf("strata_part_%d", i+1)
		}
		last := i == len(parts)-1
		var out outcome
		var mark int
		why := "gave way to another plan" // what made the part yield
		// A part that nothing can undo on its own (it neither yields nor
		// publishes) and that reads nothing at its end goes out with the
		// next part: a plan without reads is one round trip.
		carry := !last && !part.Publish && len(part.Yield) == 0 && part.Else == nil
		attempt := func() error {
			mark = len(b.executed)
			b.part, b.failedEarlier = i, false
			if savepoint != "" {
				b.queue(t, pending{step: materialize.Step{SQL: "savepoint " + savepoint, Body: -1}})
			}
			if part.Publish {
				b.queue(t, pending{step: materialize.Step{SQL: b.e.locks().Set(), Body: -1}})
			}
			var err error
			out, err = b.ops(ctx, t, p, part.Ops, part.Yield)
			if out == yielded && b.yieldedOn != nil {
				why, b.yieldedOn = b.yieldedOn.Error(), nil
			}
			if err != nil || out == yielded {
				return err
			}
			if part.Publish {
				b.queue(t, pending{step: materialize.Step{SQL: b.e.locks().Reset(), Body: -1}})
			}
			if last {
				b.queueRecord(t)
			}
			if carry {
				return nil
			}
			failed, err := b.flush(ctx, t, last)
			if failed != nil && failed.part == i && failed.yield && sqlstateIn(err, part.Yield) {
				out, why = yielded, err.Error()
				return nil
			}
			return err
		}
		undo := func(why string) error {
			b.rollback(mark, why)
			b.pending = nil
			if savepoint == "" {
				return t.Rollback(ctx)
			}
			return t.RollbackTo(ctx, savepoint)
		}
		if part.Publish {
			// A statement of an earlier part that failed with this part's
			// statements is not this part's to try again.
			once := func() error {
				err := attempt()
				if err != nil && b.failedEarlier {
					return earlierPart{err}
				}
				return err
			}
			// Who held it up, asked on the build's own connection (the
			// attempt undone): a reader, or another build.
			held := func() []postgres.LockHolder {
				hs, err := b.e.DB.LockHolders(ctx, t.Conn(), p.Model.Rel, swapLockMode(part.Ops))
				if err != nil && savepoint != "" {
					_ = t.RollbackTo(ctx, savepoint) // what failed is not the build's to carry
				}
				return hs
			}
			err = b.e.locks().Retry(ctx, once, func() error { return undo("a lock was not granted in time; tried again") }, held, func(w postgres.LockWait) {
				b.waited = w.Waited + w.Pause
				if b.e.Waiting != nil {
					b.e.Waiting(b.n.ID, w)
				}
			})
			var ep earlierPart
			if errors.As(err, &ep) {
				err = ep.err
			}
		} else {
			err = attempt()
		}
		if err != nil {
			return p, nil, err
		}
		if out != yielded {
			continue
		}
		if part.Else == nil {
			return p, nil, fmt.Errorf("internal error: part %d of the plan gave way to nothing", i+1)
		}
		if err := undo(why); err != nil {
			return p, nil, err
		}
		if savepoint == "" {
			return p, part.Else, nil
		}
		// The rest of the plan is Else's: this part and those after it.
		parts = append(append([]materialize.Part{}, parts[:i]...), part.Else.Parts...)
		p = materialize.Plan{Kind: part.Else.Kind, Response: part.Else.Response, Did: part.Else.Did, Model: p.Model, Body: p.Body, Parts: parts}
		i--
	}
	if len(parts) == 0 {
		return p, nil, nil
	}
	return p, nil, nil
}

// ops runs ops in t, in order, and stops at the first error or when one
// yields. Statements are queued; a read sends them first. yield are the
// SQLSTATEs to yield on.
func (b *builder) ops(ctx context.Context, t *postgres.Txn, p materialize.Plan, ops []materialize.Op, yield []string) (outcome, error) {
	for _, op := range ops {
		switch op := op.(type) {
		case materialize.Exec:
			b.queue(t, pending{step: op.Step, count: op.Count, yield: op.Yield})
			continue
		case materialize.Hooks:
			which, hooks := "pre_hook", b.n.Config.PreHook
			if op.Post {
				which, hooks = "post_hook", b.n.Config.PostHook
			}
			for i := range hooks {
				res, err := b.e.C.ModelHook(b.n, which, i, b.incremental)
				if err != nil {
					return ran, err
				}
				b.queue(t, pending{step: materialize.Step{SQL: res.SQL, Body: -1}, hook: which, index: i, res: res})
			}
			continue
		case materialize.Contract:
			if !b.n.Config.Contract {
				continue
			}
		case materialize.Merge:
			steps := op.Steps(b.cols)
			for i, s := range steps {
				c := materialize.NoCount
				switch {
				case i == len(steps)-1:
					c = materialize.Rows
				case op.Reference && op.Strategy == "merge":
					// Into a Citus reference table, a merge is an update
					// and an insert: it counts the rows of both.
					c = materialize.Updated
				}
				b.queue(t, pending{step: s, count: c, merge: &op})
			}
			continue
		case materialize.RenamePartitions:
			for _, s := range op.Steps(b.parts) {
				b.queue(t, pending{step: s})
			}
			continue
		case materialize.CreateIndexes:
			for _, s := range op.Steps(p.Model, b.parts) {
				b.queue(t, pending{step: s})
			}
			continue
		case materialize.Finish:
			// A relation just built needs no read to be finished: its
			// statements go with the ones before them.
			if op.Have.Known && op.Analyze != materialize.AnalyzeLoaded && !op.ReadsIndexTypes(p.Model) {
				b.finish(t, p, op, nil, op.Have.List)
				continue
			}
		}
		// A read: what is queued goes first.
		failed, err := b.flush(ctx, t, false)
		if failed != nil && failed.part == b.part && failed.yield && sqlstateIn(err, yield) {
			b.yieldedOn = err
			return yielded, nil
		}
		if err != nil {
			return ran, err
		}
		if s, ok := op.(materialize.SameDefinition); ok {
			if differs, err := b.differs(ctx, t, p, s); err != nil || differs {
				return yielded, err
			}
			continue
		}
		if s, ok := op.(materialize.SameColumns); ok {
			target, err := postgres.Columns(ctx, t, s.Target)
			if err != nil {
				return ran, err
			}
			stage, err := postgres.Columns(ctx, t, s.StageRel())
			if err != nil {
				return ran, err
			}
			if !s.Same(mcols(target), mcols(stage)) {
				return yielded, nil
			}
			continue
		}
		if err := b.op(ctx, t, p, op); err != nil {
			return ran, err
		}
	}
	return ran, nil
}

// all runs ops in t, none of which yields, and sends what they queued.
func (b *builder) all(ctx context.Context, t *postgres.Txn, p materialize.Plan, ops []materialize.Op) error {
	if _, err := b.ops(ctx, t, p, ops, nil); err != nil {
		return err
	}
	_, err := b.flush(ctx, t, false)
	return err
}

// earlierPart is the failure of a statement of an earlier part of a plan,
// sent with a later part's: it hides what the error is from that part's
// lock retries (it has no Unwrap), which are not for it.
type earlierPart struct{ err error }

func (e earlierPart) Error() string { return e.err.Error() }

// sqlstateIn says whether err is a PostgreSQL error with one of codes.
func sqlstateIn(err error, codes []string) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && slices.Contains(codes, pg.Code)
}

// differs compares the materialized view with the model's SQL as it stands
// (SameDefinition): true when it must be rebuilt instead, or when the SQL
// no longer compiles as it stands (the rebuild reports the error).
func (b *builder) differs(ctx context.Context, t *postgres.Txn, p materialize.Plan, s materialize.SameDefinition) (bool, error) {
	if _, err := t.Exec(ctx, s.Create(p.Body)); err != nil {
		return true, nil
	}
	newDef, err := postgres.ViewDef(ctx, t, s.ProbeRel())
	if err != nil {
		return false, err
	}
	oldDef, err := postgres.ViewDef(ctx, t, s.Rel)
	if err != nil {
		return false, err
	}
	if _, err := t.Exec(ctx, s.Drop()); err != nil {
		return false, err
	}
	return newDef != oldDef, nil
}

// op runs one op of a transaction that reads, once what was queued before
// it was sent.
func (b *builder) op(ctx context.Context, t *postgres.Txn, p materialize.Plan, op materialize.Op) error {
	switch op := op.(type) {
	case materialize.Contract:
		return b.contract(ctx, t, p.Body)
	case materialize.DropLeftover:
		kind, err := postgres.RelKind(ctx, t, op.Rel)
		if err != nil {
			return err
		}
		return b.run(ctx, t, op.Steps(kind)...)
	case materialize.Partitions:
		return b.partitions(ctx, t, op)
	case materialize.PartitionColumn:
		cols, err := postgres.Columns(ctx, t, op.StageRel())
		if err != nil {
			return err
		}
		if err := materialize.PartitionColumnError(op.By, mcols(cols)); err != nil {
			return b.placeAtConfig(err)
		}
		return nil
	case materialize.KeyColumns:
		cols, err := postgres.Columns(ctx, t, op.On)
		if err != nil {
			return err
		}
		if err := materialize.UniqueKeyColumnsError(op.UniqueKey, mcols(cols)); err != nil {
			return b.placeAtConfig(err)
		}
		return nil
	case materialize.AdaptColumns:
		newCols, err := postgres.Columns(ctx, t, op.StageRel())
		if err != nil {
			return err
		}
		oldCols, err := postgres.Columns(ctx, t, op.Target)
		if err != nil {
			return err
		}
		steps, cols, err := op.Steps(mcols(oldCols), mcols(newCols), canCast(ctx, t))
		if err != nil {
			return b.placeAtConfig(err)
		}
		b.cols, b.staged = cols, mcols(newCols)
		b.kept = materialize.KeptTypes(op.Mode, mcols(oldCols), b.staged)
		if materialize.RewritesColumns(steps) {
			// Views read the columns dropped or retyped: they are dropped
			// and recreated around the change, as a swap does.
			var alter []string
			for _, s := range steps {
				alter = append(alter, s.SQL)
			}
			return b.keepingViews(postgres.AlterKeepingDependents(ctx, t, op.Target, alter, b.redefiner(), func(s string) { b.executed = append(b.executed, s) }))
		}
		for _, s := range steps {
			b.queue(t, pending{step: s})
		}
		return nil
	case materialize.Refresh:
		populated, err := postgres.Populated(ctx, t, op.Rel)
		if err != nil {
			return err
		}
		unique, err := postgres.HasUniqueIndex(ctx, t, op.Rel)
		if err != nil {
			return err
		}
		b.queue(t, pending{step: op.Step(populated, unique), count: materialize.Rows})
		b.concurrently = populated && unique
		return nil
	case materialize.Finish:
		if op.ReadsIndexTypes(p.Model) {
			existing, err := postgres.IndexMethods(ctx, t, op.On)
			if err != nil {
				return err
			}
			rebuild := ""
			if mat := b.n.Config.Materialized; mat == "incremental" || mat == "materialized_view" {
				rebuild = "rebuild it with --full-refresh"
			}
			if err := materialize.IndexTypeChanged(op.On, b.n.Config.Indexes, existing, rebuild); err != nil {
				return b.placeAtConfig(err)
			}
		}
		var loaded []pgname.Rel
		if op.Analyze == materialize.AnalyzeLoaded {
			citus, err := b.e.onCitus(ctx)
			if err != nil {
				return err
			}
			estimate, err := postgres.RowEstimate(ctx, t, op.On, citus)
			if err != nil {
				return err
			}
			loaded = materialize.AnalyzeAfterLoad(op.On, b.parts, b.counts[materialize.Rows], estimate)
		}
		have := op.Have.List
		if !op.Have.Known {
			got, err := postgres.Privileges(ctx, t, op.On)
			if err != nil {
				return err
			}
			have = privileges(got)
		}
		b.finish(t, p, op, loaded, have)
		return nil
	case materialize.Swap:
		log := func(s string) { b.executed = append(b.executed, s) }
		if op.Unlogged {
			log = nil
		}
		return b.keepingViews(postgres.SwapLogged(ctx, t, op.Target, op.Temp, op.Kind, postgres.SwapOptions{KeepComment: op.KeepComment, Redefine: b.redefiner()}, log))
	case materialize.Audit:
		return b.e.audit(ctx, t, b, op.On)
	case materialize.CheckKeys:
		return b.checkKeys(ctx, t, op)
	case materialize.CompareByText:
		var err error
		b.byText, err = b.compareByText(ctx, t, op)
		return err
	case materialize.Changes:
		b.queue(t, pending{step: op.Build.WithByText(b.byText).Changes(), count: materialize.Inserted})
		return nil
	case materialize.Distribute:
		return b.distribute(ctx, t, op)
	case materialize.Count:
		b.executed = append(b.executed, op.SQL)
		var c int64
		if err := t.QueryRow(ctx, op.SQL).Scan(&c); err != nil {
			return postgres.Explain(err, op.SQL, 0)
		}
		b.counts[op.Into] = c
		return nil
	}
	return fmt.Errorf("internal error: no way to run %T", op)
}

// finish queues the statements of a Finish op, given what an incremental
// load analyzes (loaded, for AnalyzeLoaded) and the privileges op.On has.
func (b *builder) finish(t *postgres.Txn, p materialize.Plan, op materialize.Finish, loaded []pgname.Rel, have []materialize.Privilege) {
	analyze := loaded
	if op.Analyze == materialize.AnalyzeAll {
		analyze = []pgname.Rel{op.On}
	}
	for _, s := range op.Steps(p.Model, analyze, have, b.parts) {
		b.queue(t, pending{step: s})
	}
}

// privileges are the adapter's grants as plans read them.
func privileges(gs []postgres.Grant) []materialize.Privilege {
	out := make([]materialize.Privilege, len(gs))
	for i, g := range gs {
		out[i] = materialize.Privilege{Name: g.Privilege, Grantee: g.Grantee, Grantable: g.Grantable}
	}
	return out
}

// contract checks, before any data moves, that the model's query returns
// exactly the declared columns with the declared types.
func (b *builder) contract(ctx context.Context, tx postgres.Preparer, body string) error {
	if !b.n.Config.Contract {
		return nil
	}
	probe, err := materialize.ContractProbe(b.n.Columns)
	if err != nil {
		return err
	}
	if probe == "" {
		return errors.New("contract: true needs the model's columns with their data_type in YAML")
	}
	// A data_type PostgreSQL does not know is named at its column in YAML
	// (the probe below would fail without saying which), as check does.
	var types []string
	for _, c := range b.n.Columns {
		types = append(types, strings.TrimSpace(c.DataType))
	}
	var unknown []bool
	if err := tx.QueryRow(ctx, "select coalesce(array_agg(t <> '' and to_regtype(t) is null order by i), '{}') from unnest($1::text[]) with ordinality as u(t, i)", types).Scan(&unknown); err != nil {
		return err
	}
	for i, c := range b.n.Columns {
		if i < len(unknown) && unknown[i] {
			return &placedError{Pos: c.Pos, Err: fmt.Errorf("column %s of model %s: data_type %q is not a type PostgreSQL knows (contract: true)", c.Name, b.n.Name, c.DataType)}
		}
	}
	declared, err := postgres.ResultColumns(ctx, tx, probe)
	if err != nil {
		return fmt.Errorf("contract: a declared data_type is not a type PostgreSQL knows: %w", postgres.Explain(err, probe, 0))
	}
	actual, err := postgres.ResultColumns(ctx, tx, body)
	if err != nil {
		return b.stepError(materialize.Step{SQL: body, Body: 0}, err)
	}
	got := map[string]string{}
	for _, c := range actual {
		got[c.Name] = c.Type
	}
	// Each mismatch is placed at its column in YAML, as check places it;
	// a returned column YAML does not declare at the model's YAML entry.
	doc := b.n.Pos
	if b.n.Model != nil && b.n.Model.Doc != nil && b.n.Model.Doc.Pos.File != "" {
		doc = b.n.Model.Doc.Pos
	}
	at := map[string]diag.Pos{}
	for _, c := range b.n.Columns {
		if _, seen := at[c.Name]; !seen && c.Pos.File != "" {
			at[c.Name] = c.Pos
		}
	}
	place := func(name string) diag.Pos {
		if p, ok := at[name]; ok {
			return p
		}
		return doc
	}
	want := map[string]bool{}
	var problems diag.List
	const violated = "contract violated, nothing was built: "
	for _, d := range declared {
		want[d.Name] = true
		t, ok := got[d.Name]
		switch {
		case !ok:
			problems.Errorf(place(d.Name), violated+"column %s is declared (%s) but the query does not return it", d.Name, d.Type)
		case t != d.Type:
			problems.Errorf(place(d.Name), violated+"column %s is %s, declared %s", d.Name, t, d.Type)
		}
	}
	for _, c := range actual {
		switch _, listed := at[c.Name]; {
		case want[c.Name]:
		case listed:
			// Under columns: without a data_type: the probe has no column
			// for it, and 'not declared' would send the user looking for
			// a column that is there.
			problems.Errorf(place(c.Name), violated+"column %s (%s) has no data_type, and contract: true needs the type of every column", c.Name, c.Type)
		default:
			problems.Errorf(doc, violated+"column %s (%s) is returned but not declared", c.Name, c.Type)
		}
	}
	if len(problems) > 0 {
		return startsPlaced{problems}
	}
	return nil
}

// partitions creates the partitions for the periods present in the staged
// rows (when the parent is partitioned, if the op asks).
func (b *builder) partitions(ctx context.Context, tx *postgres.Txn, op materialize.Partitions) error {
	if op.IfPartitioned {
		kind, err := postgres.RelKind(ctx, tx, op.Parent)
		if err != nil {
			return err
		}
		var column string
		var parts []string
		if kind == "partitioned_table" {
			if column, parts, err = postgres.PartitionKey(ctx, tx, op.Parent); err != nil {
				return err
			}
		}
		if err := materialize.SamePartitioning(op.Parent, &op.By, kind, column, parts); err != nil {
			return b.placeAtConfig(err)
		}
		// The new rows' column, which the periods are read from (the
		// table's is a date or timestamp: the build checked it).
		if b.staged != nil {
			if err := materialize.PartitionColumnError(op.By, b.staged); err != nil {
				return b.placeAtConfig(err)
			}
		}
	}
	q, err := op.Query()
	if err != nil {
		return err
	}
	b.executed = append(b.executed, q)
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("partition_by: %w", postgres.Explain(err, q, 0))
	}
	parts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (materialize.Partition, error) {
		var p materialize.Partition
		var from, to *string
		err := row.Scan(&p.Suffix, &from, &to)
		if from != nil {
			p.From, p.To = *from, *to
		}
		return p, err
	})
	if err != nil {
		return fmt.Errorf("partition_by: %w", postgres.Explain(err, q, 0))
	}
	b.parts = parts
	for _, s := range op.Steps(parts) {
		b.queue(tx, pending{step: s})
	}
	return nil
}

func mcols(cols []postgres.Column) []materialize.Column {
	out := make([]materialize.Column, len(cols))
	for i, c := range cols {
		out[i] = materialize.Column{Name: c.Name, Type: c.Type}
	}
	return out
}

// finishSeed completes a seed's table, rel: in the transaction that loaded
// it (loaded), the table that replaces the seed's or the seed's own refilled
// or appended to; when the data was kept (loaded false), the seed's own, to
// apply what may have changed since. That is its indexes, statistics,
// grants and comment; the post_hook runs once the table is in place.
// refilled: rel is the seed's own, truncated and refilled (seed.Options).
func (e *Executor) finishSeed(ctx context.Context, q postgres.Querier, n *manifest.Node, rel pgname.Rel, loaded, refilled bool) error {
	f := materialize.Finish{On: rel, Kind: "table", Indexes: true}
	// Statistics, as for a model's table, when a model reads the seed (its
	// plan is built on them); unchanged rows need no new ones, and a seed
	// only tests (or nothing) read is left to autovacuum: on a large file
	// analyze is a sixth of the load.
	var analyze []pgname.Rel
	if loaded && e.readByModels()[n.ID] {
		analyze = []pgname.Rel{rel}
	}
	// A new table holds no privileges; the swap carries the old one's over.
	var have []postgres.Grant
	if rel == n.Relation {
		var err error
		if have, err = postgres.Privileges(ctx, q, rel); err != nil {
			return err
		}
		// The seed's table is kept (unchanged, or appended to): an index
		// whose type changed in config would be left as it is, as on a
		// model's kept relation. One truncated and refilled (a view reads
		// it) is locked out to readers until commit already: such an index
		// is made again as configured, as --full-refresh does (it refills
		// the table too when a view reads it).
		if len(n.Config.Indexes) > 0 {
			existing, err := postgres.IndexMethods(ctx, q, rel)
			if err != nil {
				return err
			}
			if refilled {
				for _, ix := range materialize.IndexesOfOtherType(rel, n.Config.Indexes, existing) {
					if _, err := q.Exec(ctx, "drop index "+rel.In(materialize.IndexName(rel.Name, ix)).Quoted()); err != nil {
						return err
					}
				}
			} else if err := materialize.IndexTypeChanged(rel, n.Config.Indexes, existing, "reload it with --full-refresh"); err != nil {
				return placeAtConfig(n, err)
			}
		}
	}
	for _, s := range f.Steps(e.modelOf(n), analyze, privileges(have), nil) {
		if _, err := q.Exec(ctx, s.SQL); err != nil {
			return e.configError(n, s, err)
		}
	}
	return nil
}

// runHooks renders a node's hooks (which is pre_hook or post_hook) and runs
// them on q through exec, in order. An error is placed where the hook is
// configured, with its place in the hook.
func (e *Executor) runHooks(ctx context.Context, q postgres.Querier, n *manifest.Node, which string, hooks []string, exec func(context.Context, postgres.Querier, materialize.Step) error) error {
	for i := range hooks {
		res, err := e.C.ModelHook(n, which, i, false)
		if err != nil {
			return err
		}
		if err := exec(ctx, q, materialize.Step{SQL: res.SQL, Body: -1}); err != nil {
			return hookPlaced(e.C.ModelHookError(n, which, i, res, err))
		}
	}
	return nil
}

// postHooks runs a node's post_hook statements.
func (e *Executor) postHooks(ctx context.Context, q postgres.Querier, n *manifest.Node, exec func(context.Context, postgres.Querier, materialize.Step) error) error {
	return e.runHooks(ctx, q, n, "post_hook", n.Config.PostHook, exec)
}

// execStep runs a statement of strata's own on q; an error names the
// statement by its first line.
func execStep(ctx context.Context, q postgres.Querier, s materialize.Step) error {
	if _, err := q.Exec(ctx, s.SQL); err != nil {
		return fmt.Errorf("%s: %w", firstLine(s.SQL), postgres.Explain(err, s.SQL, 0))
	}
	return nil
}

// hookPlaced marks a hook's error, placed where the hook is configured (the
// model's file or its YAML) and naming the model, as starting with its
// place: the report puts no other in front (it read "models/m.sql:
// models/m.yml:4:18: post_hook 1 of model m: ...").
func hookPlaced(err error) error {
	var d diag.Diagnostic
	if errors.As(err, &d) && d.Pos.File != "" && strings.HasPrefix(err.Error(), d.Pos.String()+":") {
		return startsPlaced{err}
	}
	return err
}

// redefine is the new SQL of view, when it is the relation of a view or
// materialized view model that this run builds (after the swap that asks:
// it reads the relation swapped), so that a swap whose old dependent
// definition no longer works (a column removed upstream and from the view
// in one change) creates it as its build will.
func (e *Executor) redefine(view pgname.Rel) (string, bool) {
	n := e.viewModel(view)
	if n == nil || !e.Building[n.ID] {
		return "", false
	}
	c, ok := e.Compiled[n.ID]
	if !ok || c.SQL == "" {
		return "", false
	}
	return materialize.Body(c.SQL), true
}

// redefiner gives a swap or a change in place the new SQL of the view
// models this run builds, and keeps those it created from it.
func (b *builder) redefiner() postgres.Redefiner {
	return postgres.Redefiner{SQL: b.e.redefine, Done: func(v pgname.Rel) { b.redefined = append(b.redefined, v) }}
}

// redefinedAsBuilt notes, once n's build is done, the materialized views
// its swap (or change in place) created from their new SQL: their own
// build rebuilds them (rebuildsRedefined) instead of refreshing them, so
// that their contract is checked, their indexes made as configured, and in
// build their audit reads them first, as for any change of their query.
func (e *Executor) redefinedAsBuilt(b *builder) {
	for _, v := range b.redefined {
		if n := e.viewModel(v); n != nil && n.Config.Materialized == "materialized_view" {
			e.rebuild.Store(n.ID, true)
		}
	}
}

// rebuildsRedefined says whether n is a materialized view that a swap of
// this run created from its new SQL (redefinedAsBuilt).
func (e *Executor) rebuildsRedefined(n *manifest.Node) bool {
	_, ok := e.rebuild.Load(n.ID)
	return ok
}

// viewModel is the view or materialized view model whose relation is
// view, or nil.
func (e *Executor) viewModel(view pgname.Rel) *manifest.Node {
	for _, n := range e.M.Nodes {
		if n.Kind == manifest.Model && n.Relation == view && (n.Config.Materialized == "view" || n.Config.Materialized == "materialized_view") {
			return n
		}
	}
	return nil
}

// keepingViews adds to a view's refusal to be recreated, when the view is
// a view or materialized view model of the project that this run does not
// build, how to build them together.
func (b *builder) keepingViews(err error) error {
	var de *postgres.DependentError
	if errors.As(err, &de) {
		if v := b.e.viewModel(de.View); v != nil && !b.e.Building[v.ID] {
			kind := "view"
			if v.Config.Materialized == "materialized_view" {
				kind = "materialized view"
			}
			return fmt.Errorf("%w; %s is the %s of model %s, which this run does not build: build them together (-s '%s %s'), and the %s is created from its new SQL", err, de.View, kind, v.Name, b.n.Name, v.Name, kind)
		}
	}
	return err
}

// swapLockMode is how ops take the swap lock (pgname.SwapLock), for
// LockHolders: whoever holds it blocks an exclusive taker, and only an
// exclusive holder a shared one.
func swapLockMode(ops []materialize.Op) postgres.SwapLockMode {
	exclusive, shared := materialize.Lock(pgname.SwapLock).SQL, materialize.SharedLock(pgname.SwapLock).SQL
	mode := postgres.NoSwapLock
	for _, op := range ops {
		if e, ok := op.(materialize.Exec); ok {
			switch e.SQL {
			case exclusive:
				return postgres.ExclusiveSwapLock
			case shared:
				mode = postgres.SharedSwapLock
			}
		}
	}
	return mode
}
