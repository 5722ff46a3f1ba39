package run

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/compile"
	"strata/engine/datatest"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
	"strata/engine/seed"
)

// Executor builds seeds and models and runs tests.
type Executor struct {
	DB          *postgres.Adapter
	M           *manifest.Manifest
	C           *compile.Compiler
	ProjectDir  string
	TargetDir   string
	FullRefresh bool
	// Progress reports long seed loads.
	Progress func(id string, done, total int64)
	// Compiled is each node as rendered when the project was loaded
	// (is_incremental false); it is reused rather than rendered again.
	Compiled map[string]compile.Result
	// Audits are, by model or seed, the tests that audit its new version
	// before it is published (write-audit-publish); nil: no auditing.
	Audits map[string][]string
	// Locks is how a build waits for the locks readers hold (nil: the
	// default policy); Waiting reports each wait.
	Locks   *postgres.LockPolicy
	Waiting func(id string, w postgres.LockWait)
	// Record, when set, is the statement that records node n with status
	// in the target's state (strata_meta); it joins the transaction that
	// builds n, the last one when n is built in several, so the record
	// never disagrees with what was built. "" records nothing.
	Record func(n *manifest.Node, status string) string
	// WasSCD2 are the models the target's state records as last built as
	// scd2 dimensions, where they still are: a model among them that is
	// now another materialization would replace the dimension and drop
	// its history, which only FullRefreshSCD2 allows.
	WasSCD2         map[string]bool
	FullRefreshSCD2 bool
	// Building are the nodes this run builds.
	Building map[string]bool

	// Unit runs a unit test: its result, the model's SQL as the test
	// rendered it and the statements it sent (see engine/unittest).
	Unit func(ctx context.Context, n *manifest.Node) (r Result, compiled string, executed []string)

	schemas schemaSet
	// rebuild: the materialized view models a swap created from their
	// new SQL, which their own build rebuilds (redefinedAsBuilt).
	rebuild sync.Map
	// read: the nodes models read (readByModels).
	readOnce sync.Once
	read     map[string]bool
	catMu    sync.Mutex
	cat      *postgres.Catalog
	files    files
	// Whether the database has Citus, once asked (onCitus).
	citusMu    sync.Mutex
	citus      bool
	citusKnown bool
}

// Exec runs one node.
func (e *Executor) Exec(ctx context.Context, id string) Result {
	return e.citusNodesDown(ctx, e.exec(ctx, id))
}

func (e *Executor) exec(ctx context.Context, id string) Result {
	n := e.M.Nodes[id]
	switch n.Kind {
	case manifest.Seed:
		// A seed's load, hooks and finishing steps are one transaction
		// (the scratch table of a parallel load is made again), so a
		// deadlock is retried as a model's is.
		return e.envDependent(e.retrying(ctx, n, e.seed))
	case manifest.Model:
		return e.envDependent(e.missingSource(n, e.retrying(ctx, n, e.model)))
	case manifest.Test:
		// A test is recorded in the target as it ends, a unit test too
		// (in a run that records anything: one of only unit tests leaves
		// the target as it was), so that state:modified against the target
		// knows which tests changed since.
		var r Result
		if n.IsUnit() {
			r = e.unit(ctx, n)
		} else {
			r = e.test(ctx, n)
		}
		if r.Status == Pass || r.Status == Warn || r.Status == Fail {
			if err := e.record(ctx, e.DB.Shared(), n, string(r.Status)); err != nil {
				return fail(r, err)
			}
		}
		return e.missingSource(n, r)
	}
	return Result{Status: Success, Message: "nothing to do"}
}

// missingSource adds to the error of n that a table is missing, when the
// table is one of the sources n reads, which source it is and where it is
// declared: strata builds no source, so the fix is in the database or in
// the source's schema or identifier; when it is a model or seed n reads,
// that it is not built yet, and how to build it. Of a freshness test whose column is
// missing, it says that column is the source's loaded_at_field.
func (e *Executor) missingSource(n *manifest.Node, r Result) Result {
	var pgErr *pgconn.PgError
	if r.Status != Error || !errors.As(r.Err, &pgErr) {
		return r
	}
	if k := testKind(n); k != nil && k.Name == "freshness" && pgErr.Code == "42703" {
		// The column it reads is the source table's loaded_at_field.
		field, _ := n.TestInfo.Args["field"].(string)
		if p := e.M.Nodes[n.TestInfo.Attached]; p != nil && strings.Contains(pgErr.Message, `"`+field+`"`) {
			r.Message += fmt.Sprintf("\n%q is the loaded_at_field of source %s (declared at %s): set loaded_at_field to a timestamp column of its table, or freshness: null on the table", field, p.Name, p.Pos)
		}
		return r
	}
	if pgErr.Code != "42P01" {
		return r
	}
	for _, id := range n.DependsOn {
		p := e.M.Nodes[id]
		if p == nil || !strings.Contains(pgErr.Message, `"`+p.Relation.Schema+"."+p.Relation.Name+`"`) {
			continue
		}
		switch {
		case p.Kind == manifest.Source:
			r.Message += fmt.Sprintf("\nit is the table of source %s (declared at %s), which strata does not create: load the table, or correct the source's schema or identifier", p.Name, p.Pos)
			return r
		case p.Kind == manifest.Model && p.Config.Materialized != "ephemeral" || p.Kind == manifest.Seed:
			// Not built in this database yet (a test or run -s before
			// the first build).
			env := ""
			if e.M.Target.Env != "" {
				env = " --env " + e.M.Target.Env
			}
			r.Message += fmt.Sprintf("\nit is the relation of %s %s, which is not built here yet: build it first (strata build%s -s %s)", p.Kind, p.Name, env, p.Name)
			return r
		}
	}
	return r
}

// envDependent adds to a refusal to replace a relation because a view
// that reads it cannot be recreated on the new version, when that view is
// in an environment's schema of the project (a model built with --env,
// which reads production's relations where it defers to them), whose it is
// and how to let the build through: an environment built before a change
// holds production back until it is dropped or rebuilt.
func (e *Executor) envDependent(r Result) Result {
	var de *postgres.DependentError
	if r.Status != Error || !errors.As(r.Err, &de) {
		return r
	}
	// Only production's relations are read by other environments.
	i := strings.LastIndex(de.View.Schema, pgname.EnvSep)
	if e.M.Target.Env != "" || i < 0 {
		return r
	}
	prod, env := de.View.Schema[:i], de.View.Schema[i+len(pgname.EnvSep):]
	what := "a view in the schema of environment " + env
	known := false
	for _, n := range e.M.Nodes {
		if n.Kind != manifest.Model && n.Kind != manifest.Seed {
			continue
		}
		known = known || n.Relation.Schema == prod
		if n.Relation.Schema == prod && n.Relation.Name == de.View.Name && n.Kind == manifest.Model {
			what = fmt.Sprintf("environment %s's build of model %s", env, n.Name)
		}
	}
	if !known {
		return r
	}
	r.Message += fmt.Sprintf("\n%s is %s, which reads this relation where the environment defers to production: drop the environment (strata env drop %s; it can be built again from a project that has this change), then run this again",
		de.View, what, env)
	return r
}

// deadlockRetries is how many more times a model (or seed) is built after a
// deadlock, on top of its retries config. The server rolled the model's
// transaction back, so another attempt starts from the state before it;
// and the other side of a deadlock is often another thread of the same
// run: on Citus, two transactions that create or drop distributed tables
// at once can be canceled as a distributed deadlock.
const deadlockRetries = 3

func (e *Executor) retrying(ctx context.Context, n *manifest.Node, f func(context.Context, *manifest.Node) Result) Result {
	backoff := 500 * time.Millisecond
	var moves movesWait
	for attempt := 1; ; attempt++ {
		r := f(ctx, n)
		if r.Status == Error && r.moving && ctx.Err() == nil {
			// Not an attempt of the node's own: it waits its turn.
			attempt--
			if !e.waitForMoves(ctx, n, &moves, &r) {
				r.Attempts = attempt + 1
				return r
			}
			continue
		}
		r.Attempts = attempt
		limit := n.Config.Retries
		if r.deadlock {
			limit += deadlockRetries
		}
		if r.Status != Error || attempt > limit || !r.transient || ctx.Err() != nil {
			return r
		}
		select {
		case <-ctx.Done():
			return r
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// movesWait is a node's wait for Citus's shard moves (waitForMoves).
type movesWait struct {
	start time.Time
	n     int
}

// waitForMoves waits before the node is built again, after Citus refused
// its new table (or seed's) because shards of the colocation group it joins
// are being moved (a rebalance: citus_rebalance_start, which moves them one
// after another, or a shard move or copy by hand). Citus does not wait for
// the move; the node's transaction was rolled back, so it is built again
// once the move is over, as it waits for readers: up to the target's
// swap_max_wait in all, each wait reported to Waiting. It returns false,
// with r's message saying what to do, when the wait is over or ctx ended.
func (e *Executor) waitForMoves(ctx context.Context, n *manifest.Node, w *movesWait, r *Result) bool {
	if w.n == 0 {
		w.start = r.Started
		if w.start.IsZero() {
			w.start = time.Now()
		}
	}
	w.n++
	d := postgres.Pause(w.n + 1)
	waited := time.Since(w.start)
	group := "the colocation group it joins"
	if r.movingGroup != "" {
		group = "the colocation group of " + r.movingGroup + ", which it joins"
	}
	if max := e.locks().MaxWait; max > 0 && waited+d > max {
		r.Message += fmt.Sprintf("\nCitus is moving shards of %s (a rebalance, citus_rebalance_start, or a shard move or copy), and creates no table there meanwhile: strata waited %s for the moves to end (the target's swap_max_wait); once they have (select citus_rebalance_wait()), run strata retry",
			group, waited.Round(time.Second))
		return false
	}
	if e.Waiting != nil {
		e.Waiting(n.ID, postgres.LockWait{Attempt: w.n, Waited: waited, Pause: d, ShardsMoving: true, Group: r.movingGroup})
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ensureSchema makes sure schema exists before a node is built in it.
func (e *Executor) ensureSchema(ctx context.Context, schema string) error {
	return e.schemas.ensure(ctx, e.DB.Shared(), e.nodeSchemas, schema)
}

// nodeSchemas are the schemas the project's models and seeds are built in.
func (e *Executor) nodeSchemas() []string {
	seen := map[string]bool{}
	for _, n := range e.M.Nodes {
		if n.Kind == manifest.Seed || n.Kind == manifest.Model && n.Config.Materialized != "ephemeral" {
			seen[n.Relation.Schema] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// schemaSet is what a run knows of the schemas it builds in.
type schemaSet struct {
	mu sync.Mutex
	// ready: the schemas that exist; nil until first asked.
	ready map[string]bool
}

// ensure makes sure schema exists, asking the server about it once a run:
// the first call reads which of names() exist, in one round trip, the
// calls at the same time waiting for its answer (the nodes a run starts
// at once, its seeds all in one schema, would otherwise each ask before
// any had it); only a schema that is not there is then created
// (postgres.EnsureSchema, which says what to do when the role may not).
// The first call comes from a node that holds no connection yet; the
// lock is not held while a schema is created, which a node may ask for
// holding one (store_failures' audit tables).
func (s *schemaSet) ensure(ctx context.Context, q postgres.Querier, names func() []string, schema string) error {
	s.mu.Lock()
	if s.ready == nil {
		found, err := postgres.Schemas(ctx, q, append(names(), schema))
		if err != nil {
			s.mu.Unlock()
			return fmt.Errorf("reading which schemas exist: %w", err)
		}
		s.ready = found
	}
	ok := s.ready[schema]
	s.mu.Unlock()
	if ok {
		return nil
	}
	if err := postgres.EnsureSchema(ctx, q, schema); err != nil {
		return err
	}
	s.mu.Lock()
	s.ready[schema] = true
	s.mu.Unlock()
	return nil
}

func (e *Executor) seed(ctx context.Context, n *manifest.Node) Result {
	start := time.Now()
	r := Result{Started: start, Relation: n.Relation}
	if err := e.ensureSchema(ctx, n.Relation.Schema); err != nil {
		return fail(r, err)
	}
	// ensureSchema made sure of the schema above, once a run for each
	// schema: the load does not ask again.
	opts := seed.Options{Path: n.Path, Delimiter: n.Config.SeedDelimiter(), ColumnTypes: n.Config.ColumnTypes, FullRefresh: e.FullRefresh, SchemaReady: true}
	// Before the seed's connection is taken: seedCitus reads the catalog
	// through the pool, and with every node's connection held by a seed
	// doing the same, none would get one.
	var err error
	if opts.Citus, err = e.seedCitus(ctx, n); err != nil {
		return fail(r, err)
	}
	conn, err := e.DB.Acquire(ctx)
	if err != nil {
		return fail(r, err)
	}
	defer conn.Release()
	if e.Progress != nil {
		opts.Progress = func(done, total int64) { e.Progress(n.ID, done, total) }
	}
	// A seed whose columns changed recreates the views that read it, as a
	// model swap does, so it holds the swap lock too. Without a pre_hook the
	// lock is not the first statement of the load's transaction, but all it
	// holds then is the seed's own advisory lock and its temporary table: no
	// other swap waits for those. A pre_hook may lock what a swap needs, so
	// the lock comes before it (taking it again later is free).
	swap := func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, materialize.Lock(pgname.SwapLock).SQL)
		return err
	}
	opts.BeforeSwap = swap
	opts.Locks = e.locks()
	opts.KeepComment = n.Description == ""
	var waited time.Duration // for readers' locks, said on the node's line as a model's
	opts.Waiting = func(w postgres.LockWait) {
		waited = w.Waited + w.Pause
		if e.Waiting != nil {
			e.Waiting(n.ID, w)
		}
	}
	opts.Holders = func(ctx context.Context, q postgres.Querier) ([]postgres.LockHolder, error) {
		return e.DB.LockHolders(ctx, q, n.Relation, postgres.NoSwapLock)
	}
	b := e.builder(n)
	opts.Redefine = b.redefiner()
	audit := func(ctx context.Context, tx pgx.Tx, rel pgname.Rel) error {
		t := postgres.Within(tx)
		if err := e.audit(ctx, t, b, rel); err != nil {
			return err
		}
		_, err := b.flush(ctx, t, false) // the audit tables of store_failures tests
		return err
	}
	// A seed with a post_hook is audited after it, in BeforeCommit: the
	// hook may change the rows, and the tests read those published.
	auditLast := e.audited(n) && len(n.Config.PostHook) > 0
	if e.audited(n) && !auditLast {
		opts.Audit = audit
	}
	// The table is finished in the load's transaction, before the audit
	// and the swap, as a model's is: a failed index, grant or post_hook
	// rolls the whole load back, and readers never see the new rows
	// without them.
	var finished pgname.Rel
	opts.Finish = func(ctx context.Context, tx pgx.Tx, rel pgname.Rel, refilled bool) error {
		finished = rel
		if rel != n.Relation {
			// Loaded into a scratch table: the seed's table, if any, is
			// still the previous version, which a failure keeps.
			kind, err := postgres.RelKind(ctx, tx, n.Relation)
			if err != nil {
				return err
			}
			b.fresh = kind == ""
		}
		return e.finishSeed(ctx, tx, n, rel, true, refilled)
	}
	opts.BeforeCommit = func(ctx context.Context, tx pgx.Tx) error {
		if finished != n.Relation {
			// Indexes made on the scratch table take the seed's names.
			for _, s := range materialize.RenameIndexes(n.Relation.Schema, finished.Name, n.Relation.Name, n.Config.Indexes) {
				if _, err := tx.Exec(ctx, s.SQL); err != nil {
					return e.configError(n, s, err)
				}
			}
		}
		if err := e.postHooks(ctx, tx, n, execStep); err != nil {
			return err
		}
		if auditLast {
			if err := audit(ctx, tx, n.Relation); err != nil {
				return err
			}
		}
		for _, sql := range b.records() {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("recording %s in strata_meta: %w", n.Name, err)
			}
		}
		return nil
	}
	if len(n.Config.PreHook) > 0 {
		opts.BeforeLoad = func(ctx context.Context, tx pgx.Tx) error {
			if err := swap(ctx, tx); err != nil {
				return err
			}
			return e.seedPreHooks(ctx, tx, n)
		}
	}
	res, err := seed.Load(ctx, conn.Conn(), n.Relation.Schema, n.Relation.Name, filepath.Join(e.ProjectDir, filepath.FromSlash(n.Path)), opts)
	r.Audits = b.auditResults()
	if err != nil {
		return e.failed(ctx, r, b, b.keepingViews(columnTypeError(n, err)))
	}
	e.redefinedAsBuilt(b)
	r.Rows = res.Rows
	if res.Skipped {
		r.Response = "unchanged, " + strconv.FormatInt(res.Rows, 10) + " rows kept"
		// The data is kept, but the config may have changed (or a grant
		// failed last time): hooks, grants and description are applied on
		// every run, as for models, in one transaction.
		err = pgx.BeginFunc(ctx, conn.Conn(), func(tx pgx.Tx) error {
			if err := e.seedPreHooks(ctx, tx, n); err != nil {
				return err
			}
			if err := e.finishSeed(ctx, tx, n, n.Relation, false, false); err != nil {
				return err
			}
			if err := e.postHooks(ctx, tx, n, execStep); err != nil {
				return err
			}
			return e.record(ctx, tx, n, "success")
		})
	} else {
		r.Response = "COPY " + strconv.FormatInt(res.Rows, 10)
		if res.Appended {
			// Rows written: the new ones, as an incremental model's append.
			r.Response, r.Rows = "APPEND "+strconv.FormatInt(res.AppendedRows, 10), res.AppendedRows
		}
	}
	if err != nil {
		return fail(r, err)
	}
	r.Response += waitedFor(waited)
	r.Status = Success
	r.Duration = time.Since(start)
	return r
}

// columnTypeError places a type of n's column_types that the server
// refused at the entry that set it, and says which entry set the type of a
// column that a value of the file does not fit (the error is placed at the
// value); other errors are returned as they are.
func columnTypeError(n *manifest.Node, err error) error {
	var ce *seed.CopyError
	if errors.As(err, &ce) && ce.Column != "" {
		if typ, ok := n.Config.ColumnTypes[ce.Column]; ok {
			if pos := n.EntryPos("column_types", ce.Column); pos.File != "" {
				return ce.Note(fmt.Sprintf("column_types sets the type of %q to %s at %s", ce.Column, strings.TrimSpace(typ), pos))
			}
		}
		return err
	}
	var bad *seed.ColumnTypeError
	if !errors.As(err, &bad) {
		return err
	}
	pos := n.EntryPos("column_types", bad.Column)
	if pos.File == "" {
		return err
	}
	return &placedError{Pos: pos, Err: bad}
}

// record writes the record of n with status on q, in the transaction
// that built it.
func (e *Executor) record(ctx context.Context, q postgres.Querier, n *manifest.Node, status string) error {
	if e.Record == nil {
		return nil
	}
	sql := e.Record(n, status)
	if sql == "" {
		return nil
	}
	if _, err := q.Exec(ctx, sql); err != nil {
		return fmt.Errorf("recording %s in strata_meta: %w", n.Name, err)
	}
	return nil
}

// seedPreHooks runs a seed's pre_hook statements on q.
func (e *Executor) seedPreHooks(ctx context.Context, q postgres.Querier, n *manifest.Node) error {
	return e.runHooks(ctx, q, n, "pre_hook", n.Config.PreHook, execStep)
}

func fail(r Result, err error) Result {
	r.Status = Error
	r.Message = err.Error()
	r.Err = err
	var pe *placedError
	var sp startsPlaced
	var ple *materialize.PlacementError
	r.Placed = errors.As(err, &pe) || errors.As(err, &sp) || errors.As(err, &ple) && ple.Placed
	r.transient = postgres.Transient(err)
	r.deadlock = postgres.Deadlock(err)
	r.movingGroup, r.moving = postgres.CitusShardsMoving(err)
	return r
}

// locks is the run's lock policy.
func (e *Executor) locks() postgres.LockPolicy {
	if e.Locks != nil {
		return *e.Locks
	}
	return postgres.DefaultLockPolicy
}

// modelOf is what a plan needs of a model node: whether it is audited
// too, and whether a model reads it.
func (e *Executor) modelOf(n *manifest.Node) materialize.Model {
	m := materialize.Model{Rel: n.Relation, Config: n.Config, Description: n.Description, Audit: e.audited(n)}
	// An incremental model's table is read by its next load (is_incremental).
	if n.Kind == manifest.Model && n.Config.Materialized != "incremental" {
		m.Unread = !e.readByModels()[n.ID]
	}
	return m
}

// readByModels are the nodes that a model of the project reads (its
// parents), computed once.
func (e *Executor) readByModels() map[string]bool {
	e.readOnce.Do(func() {
		e.read = map[string]bool{}
		for _, n := range e.M.Nodes {
			if n.Kind != manifest.Model {
				continue
			}
			for _, id := range n.DependsOn {
				e.read[id] = true
			}
		}
	})
	return e.read
}

// audited says whether n's new version is audited before it is published.
func (e *Executor) audited(n *manifest.Node) bool {
	return len(e.Audits[n.ID]) > 0
}

// render returns a node rendered: as compiled at load time unless the
// model is built incrementally, which renders it again with is_incremental.
func (e *Executor) render(n *manifest.Node, incremental bool) (compile.Result, error) {
	if res, ok := e.Compiled[n.ID]; ok && !incremental {
		return res, nil
	}
	return e.C.Node(n, compile.Options{IsIncremental: incremental})
}

// writeSQL saves the compiled and the executed SQL of a node (in the
// background: Flush waits for them) and returns their paths.
func (e *Executor) writeSQL(n *manifest.Node, compiled string, executed []string) (string, string) {
	if e.TargetDir == "" {
		return "", ""
	}
	cp, err := compile.Path(filepath.Join(e.TargetDir, "compiled"), n)
	if err != nil {
		return "", "" // a path outside target/: validate reports the name
	}
	ep, _ := compile.Path(filepath.Join(e.TargetDir, "run"), n)
	e.files.write(cp, compiled)
	e.files.write(ep, strings.Join(executed, ";\n\n")+";\n")
	return e.rel(cp), e.rel(ep)
}

// Flush waits until the SQL files of the nodes run so far are written, and
// returns how many could not be and the first error. Call it once, after
// the last node.
func (e *Executor) Flush() (unwritten int, first error) { return e.files.flush() }

func (e *Executor) rel(p string) string {
	if r, err := filepath.Rel(e.ProjectDir, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// sqlError places a database error in the node's own file (res is the
// node as rendered for the statement, step the statement whose Body is
// where res's SQL starts in it): compile.Result.SQLError.
func (e *Executor) sqlError(n *manifest.Node, res compile.Result, err error, step materialize.Step) error {
	return res.SQLError(n, postgres.Explain(err, step.SQL, max(step.Body, 0)))
}

// testStatement wraps a test's SQL (body, which starts at the offset of
// its compiled SQL given by body.Body) as prefix + body + suffix, keeping
// that offset, so that an error is placed in the test's file.
func testStatement(prefix string, body materialize.Step, suffix string) materialize.Step {
	return materialize.Step{SQL: prefix + body.SQL + suffix, Body: len([]rune(prefix)) + body.Body}
}

// test runs a data test: counts its failing rows, compares with the thresholds.
func (e *Executor) test(ctx context.Context, n *manifest.Node) Result {
	start := time.Now()
	r := Result{Started: start}
	res, err := e.render(n, false)
	if err != nil {
		return fail(r, err)
	}
	compiled := res.SQL
	// The wrappers put the compiled SQL on their first line, so an error's
	// line is the compiled file's line.
	body := limited(n, materialize.Step{SQL: materialize.Body(compiled)})
	sql := body.SQL
	var executed []string
	count := testStatement("select count(*) from (", body, "\n) as strata_failures")
	var failures int64
	if n.Config.StoreFailures {
		audit := e.auditTable(n)
		if err := e.ensureSchema(ctx, audit.Schema); err != nil {
			return fail(r, err)
		}
		stmts := []materialize.Step{{SQL: "drop table if exists " + audit.Quoted(), Body: -1}, testStatement("create table "+audit.Quoted()+" as ", body, "")}
		for _, s := range stmts {
			executed = append(executed, s.SQL)
		}
		err = e.DB.BeginFunc(ctx, func(tx pgx.Tx) error {
			for _, s := range stmts {
				if _, err := tx.Exec(ctx, s.SQL); err != nil {
					if s.Body < 0 {
						return execError(s, err)
					}
					return e.sqlError(n, res, err, s)
				}
			}
			return tx.QueryRow(ctx, "select count(*) from "+audit.Quoted()).Scan(&failures)
		})
		r.Relation = audit
	} else {
		var known bool
		if d := res.Detect; d.Expr != "" {
			// The cheap check first; when it fails (an error) the count
			// below fails too, and places the error in the test's SQL.
			var v int64
			executed = append(executed, d.Query())
			if e.DB.Shared().QueryRow(ctx, d.Query()).Scan(&v) == nil {
				known, failures = detected(n, d, v)
			}
		}
		if !known {
			executed = append(executed, count.SQL)
			err = e.DB.Shared().QueryRow(ctx, count.SQL).Scan(&failures)
			if err != nil {
				err = e.sqlError(n, res, err, count)
			}
		}
	}
	r.Compiled, r.Executed = e.writeSQL(n, compiled, executed)
	if err != nil {
		return fail(r, err)
	}
	r.Duration = time.Since(start)
	return e.judge(ctx, plain{e.DB.Shared()}, n, sql, failures, r)
}

// detected says what a test's detection found (v, its value): whether
// that is its count of failures, and the count. Unless it is exact, only
// 0 is: the failing rows are then counted by the test's SQL.
func detected(n *manifest.Node, d datatest.Detection, v int64) (bool, int64) {
	switch {
	case v == 0:
		return true, 0
	case !d.Exact:
		return false, 0
	case n.Config.Limit > 0:
		return true, min(v, int64(n.Config.Limit))
	}
	return true, v
}

// judge gives a test that found failures rows its status by the
// thresholds, and its message with a sample of what failed; q reads.
func (e *Executor) judge(ctx context.Context, q reader, n *manifest.Node, sql string, failures int64, r Result) Result {
	r.Failures = failures
	r.Status = Pass
	errorIf, warnIf := n.Config.ErrorIf, n.Config.WarnIf
	if errorIf == "" {
		errorIf = "!=0"
	}
	if warnIf == "" {
		warnIf = "!=0"
	}
	level := ""
	if k := testKind(n); k != nil && k.Level != "" && failures > 0 {
		_ = q.query(ctx, "select "+pgname.Ident(k.Level)+"::text from ("+sql+") as f limit 1", func(rows pgx.Rows) error {
			vals, err := pgx.CollectRows(rows, pgx.RowTo[*string])
			if err == nil && len(vals) > 0 && vals[0] != nil {
				level = *vals[0]
			}
			return err
		})
	}
	switch {
	case level == "warn":
		r.Status = Warn
	case n.Config.Severity != "warn" && compare(failures, errorIf):
		r.Status = Fail
	case compare(failures, warnIf):
		r.Status = Warn
	}
	if r.Status != Pass {
		where := r.Compiled
		if r.Relation.Name != "" {
			// The table of its failures, as the user queries it.
			where = r.Relation.Typed()
		}
		r.Message = fmt.Sprintf("got %d failing row%s; see %s", failures, plural(failures), where)
		if l := int64(n.Config.Limit); l > 0 && failures >= l {
			// Counted up to the limit: there may be more.
			r.Message = fmt.Sprintf("got %d failing row%s (limit: %d, so there may be more); see %s", failures, plural(failures), l, where)
		}
		if msg := freshnessMessage(ctx, q, n, sql, r.Status); msg != "" {
			r.Message = msg + "; see " + where
		} else if msg := explanation(ctx, q, n, sql); msg != "" {
			r.Message = msg + "; see " + where
		} else if sample := e.sample(ctx, q, n, sql); sample != "" {
			r.Message += "; e.g. " + sample
		}
	}
	return r
}

// explanation says what is wrong for a failing test of a kind whose
// failure is one row of counts (row_count: "3 rows: fewer than min 5"),
// read from that row; "" for another test, or when that cannot be read.
func explanation(ctx context.Context, q reader, n *manifest.Node, sql string) string {
	if n.TestInfo == nil {
		return ""
	}
	expr := datatest.Explanation(datatest.Spec{Kind: n.TestInfo.Kind, Args: n.TestInfo.Args, Where: n.Config.Where})
	if expr == "" {
		return ""
	}
	var msg *string
	err := q.query(ctx, "select ("+expr+")::text from ("+sql+") as f limit 1", func(rows pgx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&msg); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil || msg == nil {
		return ""
	}
	return *msg
}

// freshnessMessage says how old the newest row of a source table is, for
// a freshness test that warned or failed (status), and which bound it
// passed; "" for another test, or when that cannot be read.
func freshnessMessage(ctx context.Context, q reader, n *manifest.Node, sql string, status Status) string {
	if k := testKind(n); k == nil || k.Name != "freshness" {
		return ""
	}
	field, _ := n.TestInfo.Args["field"].(string)
	warn, _ := n.TestInfo.Args["warn_after"].(string)
	errAfter, _ := n.TestInfo.Args["error_after"].(string)
	var newest, age *string
	err := q.query(ctx, "select max_loaded_at::text, ("+datatest.AgeText("max_loaded_at")+") from ("+sql+") as f limit 1", func(rows pgx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&newest, &age); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return ""
	}
	if newest == nil {
		return fmt.Sprintf("no row has a value in %q: the table is empty, or %q is NULL in every row", field, field)
	}
	bound := "warn_after " + warn
	if status == Fail && errAfter != "" || warn == "" {
		bound = "error_after " + errAfter
	}
	return fmt.Sprintf("the newest %q is %s, %s ago: older than %s", field, *newest, *age, bound)
}

// unit runs a unit test through e.Unit and keeps its SQL under target/.
func (e *Executor) unit(ctx context.Context, n *manifest.Node) Result {
	start := time.Now()
	if e.Unit == nil {
		return Result{Started: start, Status: Error, Message: "unit tests are not run here"}
	}
	r, compiled, executed := e.Unit(ctx, n)
	r.Started, r.Duration = start, time.Since(start)
	r.Compiled, r.Executed = e.writeSQL(n, compiled, executed)
	return r
}

// testKind is the built-in kind of a generic test; nil for a custom
// generic test or a singular one.
func testKind(n *manifest.Node) *datatest.Kind {
	if n.TestInfo == nil {
		return nil
	}
	return datatest.Lookup(n.TestInfo.Kind)
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// sample shows a few offending values for the tests where they help most.
func (e *Executor) sample(ctx context.Context, q reader, n *manifest.Node, sql string) string {
	k := testKind(n)
	if k == nil || k.Sample == "" {
		return ""
	}
	var out []string
	err := q.query(ctx, fmt.Sprintf("select %s::text from (%s) as s order by 1 limit 5", pgname.Ident(k.Sample), sql), func(rows pgx.Rows) error {
		vals, err := pgx.CollectRows(rows, pgx.RowTo[*string])
		for _, v := range vals {
			if v == nil {
				out = append(out, "NULL")
			} else {
				out = append(out, strconv.Quote(*v))
			}
		}
		return err
	})
	if err != nil {
		return ""
	}
	return strings.Join(out, ", ")
}

// auditName is the audit table of a test: hashed when too long, so two tests
// whose names share their first 63 bytes keep separate tables.
func auditName(s string) string { return pgname.Fit(s) }

// compare evaluates a threshold like ">10" or "!=0" against n.
func compare(n int64, cond string) bool {
	cond = strings.ReplaceAll(cond, " ", "")
	for _, op := range []string{"!=", "<>", ">=", "<=", "==", "=", ">", "<"} {
		if !strings.HasPrefix(cond, op) {
			continue
		}
		v, err := strconv.ParseInt(cond[len(op):], 10, 64)
		if err != nil {
			return n != 0
		}
		switch op {
		case "!=", "<>":
			return n != v
		case ">=":
			return n >= v
		case "<=":
			return n <= v
		case "==", "=":
			return n == v
		case ">":
			return n > v
		case "<":
			return n < v
		}
	}
	return n != 0
}
