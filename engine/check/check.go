// Package check proves models against the target's own PostgreSQL without
// building anything (docs/check.md): in one transaction that is always rolled
// back, every selected model, and each parent it needs that is not built,
// is created as a view of the SQL a build would run, in graph order and
// under its real name, so that refs resolve exactly as in a build; seeds
// become empty tables typed as their loader would type them, absent sources
// empty tables of their declared columns, and data tests are described by
// the server without running. What PostgreSQL rejects is reported, all of
// it at once, placed in the user's files; what it accepts is read back
// from the catalog: each node's columns with their exact types, and the
// columns each model reads in its parents (pg_depend on the views' rules).
//
// No statement it sends reads or writes a row of user data. It never
// prints and never commits; the CLI reports what Run returns, and the
// pipeline keeps it in target/check.json.
package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/compile"
	"strata/engine/diag"
	"strata/engine/graph"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
	"strata/engine/project"
	"strata/engine/seed"
)

// Project is what check needs of a loaded project.
type Project struct {
	M *manifest.Manifest
	G *graph.Graph
	C *compile.Compiler
	// Compiled holds each model and test as rendered at load time
	// (is_incremental false).
	Compiled map[string]compile.Result
	// Dir is the project's folder, where seed files are read from.
	Dir string
	// Config is project.yaml's check: mapping.
	Config project.CheckConfig
	// RunHooks counts the on-run-start and on-run-end hooks, which check
	// does not run (it says so).
	RunHooks int
	// WasSCD2 are the models the target's state records as last built as
	// scd2 dimensions, which are another materialization now.
	WasSCD2 map[string]bool
}

// Options change how check proves the models.
type Options struct {
	// FullRefresh: incremental models are checked as a --full-refresh
	// build would render them (is_incremental false).
	FullRefresh bool
	// FullRefreshSCD2: a model that was an scd2 dimension may be built as
	// another materialization (build --check --full-refresh-scd2).
	FullRefreshSCD2 bool
	// ColumnsOnly: the models are proved and their columns read, but not
	// held against what their build would refuse of the relation that
	// exists (an incremental load, a switch away from scd2), which plan
	// says in its own words (a full refresh needed); the views the build
	// could not recreate on a model's new version are found, but kept in
	// the node's ViewBreaks, not failing it.
	ColumnsOnly bool
	// Builds, when not nil, are the models the build would build, of
	// those selected (plan under -s checks what reads a changed model
	// too): a view model selected but not in Builds is proved, but a swap
	// of a model it reads recreates it from its definition as it is, as
	// the build does, not from its new SQL (viewBreaks).
	Builds map[string]bool
	// StatementTimeout and LockTimeout bound each statement and each wait
	// for a lock (a selected model's relation that a query is reading);
	// zero means 60s and 5s.
	StatementTimeout, LockTimeout time.Duration
	// CitusConnectTimeout, when not zero, bounds the wait for a Citus
	// node to accept a connection (citus.node_connection_timeout, 30s by
	// default), which a statement passed on to the workers waits out for
	// a node that does not answer.
	CitusConnectTimeout time.Duration
	// LeaveExisting: nothing that exists is replaced or renamed aside
	// (which takes an ACCESS EXCLUSIVE lock: it waits for every reader of
	// the relation, and every reader after it waits for it). A selected
	// seed whose table exists is used as it is; a selected model whose
	// relation exists is checked as a temporary view of its SQL, which
	// reads the existing relations, so the models after it see the
	// relation as it is, not the new definition. Check then takes on what
	// exists only the ACCESS SHARE lock a reader takes. For typing the
	// inputs of unit tests, which run beside the readers of production's
	// tables (strata build).
	LeaveExisting bool
}

// Status is what check found of one node.
type Status string

const (
	// OK: PostgreSQL accepted the node's SQL (or its table was created).
	OK Status = "ok"
	// Error: PostgreSQL rejected it, or it could not be set up.
	Error Status = "error"
	// NotChecked: a parent it needs failed, so it was not tried.
	NotChecked Status = "not_checked"
	// Existing: not selected and built already; used as it is.
	Existing Status = "existing"
)

// Column is an output column and its type as format_type prints it.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ColumnRef is a column of another node that a model reads.
type ColumnRef struct {
	Node   string `json:"node"`
	Column string `json:"column"`
}

// Node is what check found of one node.
type Node struct {
	ID     string `json:"unique_id"`
	Status Status `json:"status"`
	// Selected: the node was selected (else it is a parent that a selected
	// node needs).
	Selected bool `json:"selected"`
	// As says what check made of it: "view", "ephemeral view", "empty
	// table", "table as loaded", "declared table", "existing", "described".
	As string `json:"checked_as,omitempty"`
	// Columns are its output columns, in order; none for a test.
	Columns []Column `json:"columns,omitempty"`
	// ColumnsUsed are the columns of other nodes its SQL reads, sorted:
	// directly, or through the ephemeral models it inlines; a model that
	// reads a view reads that view's columns, not those the view reads.
	ColumnsUsed []ColumnRef `json:"columns_used,omitempty"`
	// Message says why it failed or was not checked.
	Message string `json:"message,omitempty"`
	// LockTimeout: it failed because a lock it waited for (on a relation
	// its SQL reads, or its own) was not granted within lock_timeout.
	LockTimeout bool `json:"-"`
	// ViewBreaks, under ColumnsOnly, are the views that the node's next
	// build could not recreate on its new version (a table swapped in, a
	// sync_all_columns load that drops or retypes columns), each as check
	// would fail the node for it; under ColumnsOnly they do not fail it
	// (plan reports them).
	ViewBreaks []ViewBreak `json:"view_breaks,omitempty"`
}

// ViewBreak is a view the build could not recreate on a model's new
// version: the view, and the error check says of it.
type ViewBreak struct {
	View    string `json:"view"`
	Message string `json:"message"`
}

// Result is what check found: every node it checked or used, the
// problems, placed in the user's files, and notes for the user.
type Result struct {
	Nodes map[string]*Node
	// Order is the nodes in the order they were checked.
	Order []string
	Diags diag.List
	Notes []string
	// Timing is where the time went.
	Timing Timing
}

// Timing splits a check's wall time: waiting on PostgreSQL (statements
// and catalog queries, round trips included), reading seed files, and the
// rest (strata's own work: planning, rendering, comparing).
type Timing struct {
	Total, Database, SeedFiles time.Duration
}

// Failed says whether a node failed (a selected node, or a parent one of
// them needs), which is exit 1.
func (r *Result) Failed() bool {
	for _, n := range r.Nodes {
		if n.Status == Error {
			return true
		}
	}
	return false
}

// Count returns how many nodes have status s.
func (r *Result) Count(s Status) int {
	c := 0
	for _, n := range r.Nodes {
		if n.Status == s {
			c++
		}
	}
	return c
}

// Run checks the nodes of selected (models, seeds, tests, sources; others
// are ignored) on db, in one transaction it rolls back. The error is not
// the project's: the database could not be reached, the context was
// cancelled, a catalog query failed. The project's problems are in the
// Result's Diags.
func Run(ctx context.Context, db *postgres.Adapter, p Project, selected map[string]bool, opt Options) (*Result, error) {
	started := time.Now()
	c := &checker{p: p, opt: opt, selected: selected, res: &Result{Nodes: map[string]*Node{}}, cause: map[string]string{}}
	defer func() { c.res.Timing.Total = time.Since(started) }()
	conn, err := db.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	// Always rolled back, also when ctx was cancelled (the rollback must still reach the server).
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := c.run(ctx, tx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if tx.Conn().IsClosed() {
			return nil, c.lost(err)
		}
		return nil, err
	}
	if err := tx.Rollback(context.WithoutCancel(ctx)); err != nil {
		if tx.Conn().IsClosed() {
			c.at = nil // all was checked
			return nil, c.lost(err)
		}
		return nil, fmt.Errorf("rolling back: %w", err)
	}
	c.res.Diags.Sort()
	return c.res, nil
}

// lost is err, the connection lost (closed) while check ran (the server restarted
// or stopped, its backend terminated), said as such: what check was
// doing, and that nothing was changed, since its transaction, which it
// always rolls back, ended with the connection.
func (c *checker) lost(err error) error {
	return fmt.Errorf("the connection to the server was lost while checking %s (%w); nothing was changed: check's transaction, which it always rolls back, ended with the connection. Run it again once the server answers", c.checkingWhat(), err)
}

// checking notes the jobs check is about to send, for lost; it is on the
// path of every node, so what lost says of them is made only when lost
// says it (checkingWhat).
func (c *checker) checking(jobs []*job) {
	if len(jobs) > 0 {
		c.at = jobs
	}
}

// checkingWhat names the jobs checking noted, or the selection.
func (c *checker) checkingWhat() string {
	if len(c.at) == 0 {
		return "the selection"
	}
	name := func(j *job) string { return fmt.Sprintf("%s %s", j.n.Kind, j.n.Name) }
	at := name(c.at[0])
	switch rest := c.at[1:]; {
	case len(rest) > 3:
		at += fmt.Sprintf(", sent with %d other nodes", len(rest))
	case len(rest) > 0:
		names := make([]string, len(rest))
		for i, j := range rest {
			names[i] = name(j)
		}
		at += ", sent with " + strings.Join(names, ", ")
	}
	return at
}

// checker is one run of check.
type checker struct {
	// at are the jobs check sent last (checking), for lost.
	at       []*job
	p        Project
	opt      Options
	selected map[string]bool
	res      *Result
	// citus: the database has Citus, which passes the text of a DDL
	// statement on to its workers, and the whole query string when the
	// statement came with others (which they refuse: "cannot insert
	// multiple commands into a prepared statement"); each statement then
	// goes out alone.
	citus bool
	// described (LeaveExisting): the selected nodes that exist, by id, and
	// the temporary relation that describes each (quoted), which the
	// selected nodes after it read instead of the relation as it is.
	described map[string]string
	jobs      []*job
	byID      map[string]*job
	// cause is the failed node that keeps a node from being checked.
	cause map[string]string
	// placed (on Citus) is how the tables of the selected table,
	// incremental and scd2 models, those they colocate with, and those
	// that colocate with them, sat on the cluster before check set
	// anything aside (readPlacements).
	placed map[pgname.Rel]materialize.Placed
	// colocatedWith are, by id, the models and seeds whose colocate_with
	// names it (readPlacements).
	colocatedWith map[string][]*manifest.Node
}

// db runs f, a call to the database, counting its time.
func (c *checker) db(f func() error) error {
	start := time.Now()
	err := f()
	c.res.Timing.Database += time.Since(start)
	return err
}

func (c *checker) run(ctx context.Context, tx pgx.Tx) error {
	st, lt := c.opt.StatementTimeout, c.opt.LockTimeout
	if st == 0 {
		st = 60 * time.Second
	}
	if lt == 0 {
		lt = 5 * time.Second
	}
	err := c.db(func() error {
		_, err := tx.Exec(ctx, fmt.Sprintf("set local statement_timeout = %d; set local lock_timeout = %d", st.Milliseconds(), lt.Milliseconds()))
		return err
	})
	if err != nil {
		return err
	}
	set := c.wanted()
	if len(set) == 0 {
		return nil
	}
	if err := c.db(func() (err error) { c.citus, err = postgres.HasCitus(ctx, tx); return err }); err != nil {
		return err
	}
	if c.citus && c.opt.CitusConnectTimeout > 0 {
		err := c.db(func() error {
			_, err := tx.Exec(ctx, fmt.Sprintf("set local citus.node_connection_timeout = %d", c.opt.CitusConnectTimeout.Milliseconds()))
			return err
		})
		if err != nil {
			return err
		}
	}
	var obs *observed
	if err := c.db(func() (err error) { obs, err = c.observe(ctx, tx, set); return err }); err != nil {
		return err
	}
	if err := c.db(func() error { return c.readPlacements(ctx, tx, obs) }); err != nil {
		return err
	}
	start := time.Now()
	seeds := c.inferSeeds(ctx, set, obs)
	c.res.Timing.SeedFiles = time.Since(start)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	c.jobs, c.byID = nil, map[string]*job{}
	order := c.order(set, obs)
	c.describe(order, obs, seeds)
	for _, id := range order {
		j := c.plan(id, obs, seeds)
		c.jobs = append(c.jobs, j)
		c.byID[id] = j
	}
	if err := c.db(func() error { return c.createSchemas(ctx, tx, obs) }); err != nil {
		return err
	}
	if err := c.execAll(ctx, tx); err != nil {
		return err
	}
	c.at = nil
	if err := c.db(func() error { return c.readCatalog(ctx, tx) }); err != nil {
		return err
	}
	if err := c.compare(ctx, tx); err != nil {
		return err
	}
	c.notes()
	return nil
}

// wanted is the selected nodes check handles and all their ancestors (the
// parents that exist are used as they are, found out later).
func (c *checker) wanted() map[string]bool {
	set := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if set[id] {
			return
		}
		n := c.p.M.Nodes[id]
		// A unit test is run by strata test, not checked: it has no SQL of
		// its own until its inputs are made.
		if n == nil || n.Kind == manifest.Exposure || n.IsUnit() {
			return
		}
		set[id] = true
		for _, d := range n.DependsOn {
			visit(d)
		}
	}
	for _, id := range c.p.M.Sorted() {
		if c.selected[id] {
			visit(id)
		}
	}
	return set
}

// order is the nodes check handles, in graph order: the selected ones, and
// each ancestor that does not exist and that one of them needs, through
// ephemeral models (inlined) and ancestors that do not exist either.
func (c *checker) order(set map[string]bool, obs *observed) []string {
	need := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if need[id] {
			return
		}
		need[id] = true
		for _, d := range c.p.M.Nodes[id].DependsOn {
			dn := c.p.M.Nodes[d]
			if dn == nil {
				continue
			}
			if c.selected[d] || isEphemeral(dn) || !obs.exists(dn) {
				visit(d)
			} else {
				need[d] = true // used as it is
			}
		}
	}
	for id := range set {
		if c.selected[id] {
			visit(id)
		}
	}
	var out []string
	for _, id := range c.p.G.Order(need) {
		n := c.p.M.Nodes[id]
		// An ephemeral model that is not selected is inlined where used
		// and is nothing of its own.
		if isEphemeral(n) && !c.selected[id] {
			continue
		}
		out = append(out, id)
	}
	return out
}

func isEphemeral(n *manifest.Node) bool {
	return n.Kind == manifest.Model && n.Config.Materialized == "ephemeral"
}

// parents are the nodes j waits for: its parents that check handles, and
// through an ephemeral model that is not checked on its own, that model's.
func (c *checker) parents(n *manifest.Node) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(n *manifest.Node)
	visit = func(n *manifest.Node) {
		for _, d := range n.DependsOn {
			if seen[d] {
				continue
			}
			seen[d] = true
			if _, ok := c.byID[d]; ok {
				out = append(out, d)
				continue
			}
			if dn := c.p.M.Nodes[d]; dn != nil && isEphemeral(dn) {
				visit(dn)
			}
		}
	}
	visit(n)
	sort.Strings(out)
	return out
}

// execAll runs the jobs in order. Jobs go to the server in chunks, one
// round trip each, under one savepoint: when a chunk fails, it is rolled
// back and its jobs run again one at a time, each under a savepoint of its
// own, which finds every failure, places it, and skips what depends on it.
// Most chunks pass, so a project costs a few round trips, not thousands.
func (c *checker) execAll(ctx context.Context, tx pgx.Tx) error {
	var chunk []*job
	size := 0
	for _, j := range c.jobs {
		if len(j.steps) == 0 || j.err != nil || j.skip != "" || !c.parentsPending(j, chunk) {
			// Its parents' outcomes decide it: those in the chunk first.
			if err := c.flush(ctx, tx, chunk); err != nil {
				return err
			}
			chunk, size = nil, 0
			if len(j.steps) == 0 || j.err != nil || j.skip != "" {
				if err := c.exec(ctx, tx, j); err != nil {
					return err
				}
				continue
			}
		}
		chunk = append(chunk, j)
		for _, st := range j.steps {
			size += len(st.SQL)
		}
		if len(chunk) >= maxChunk || size >= maxChunkBytes {
			if err := c.flush(ctx, tx, chunk); err != nil {
				return err
			}
			chunk, size = nil, 0
		}
	}
	return c.flush(ctx, tx, chunk)
}

// How many jobs, and how much SQL, go in one round trip.
const (
	maxChunk      = 250
	maxChunkBytes = 1 << 20
)

// parentsPending says whether j may join chunk: each parent it waits for
// is either done and usable, or in the chunk (and usable if the chunk
// passes; if it fails, everything in it runs again one at a time).
func (c *checker) parentsPending(j *job, chunk []*job) bool {
	for _, p := range c.parents(j.n) {
		if out, done := c.res.Nodes[p]; done {
			if out.Status == Error || out.Status == NotChecked {
				return false
			}
			continue
		}
		if !slices.ContainsFunc(chunk, func(k *job) bool { return k.n.ID == p }) {
			return false
		}
	}
	return true
}

// flush sends chunk in one round trip; when that fails, the chunk is
// rolled back and its jobs run one at a time.
func (c *checker) flush(ctx context.Context, tx pgx.Tx, chunk []*job) error {
	switch {
	case len(chunk) == 0:
		return nil
	case len(chunk) == 1 || c.citus:
		for _, j := range chunk {
			if err := c.exec(ctx, tx, j); err != nil {
				return err
			}
		}
		return nil
	}
	// The savepoint goes first, on its own: a syntax error in a batch of
	// statements runs none of them, the savepoint included, and leaves the
	// transaction aborted with nothing to roll back to.
	c.checking(chunk)
	if err := c.db(func() error { _, err := tx.Exec(ctx, "savepoint strata_chunk"); return err }); err != nil {
		return err
	}
	var b strings.Builder
	for _, j := range chunk {
		for _, st := range j.steps {
			b.WriteString(st.SQL)
			b.WriteString(";\n")
		}
	}
	b.WriteString("release savepoint strata_chunk")
	err := c.db(func() error { _, err := tx.Exec(ctx, b.String()); return err })
	if err == nil {
		for _, j := range chunk {
			out := c.record(j)
			out.Status = OK
		}
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !isPg(err) || tx.Conn().IsClosed() {
		return err
	}
	if err := c.db(func() error {
		_, err := tx.Exec(context.WithoutCancel(ctx), "rollback to savepoint strata_chunk")
		return err
	}); err != nil {
		return fmt.Errorf("rolling back to a savepoint: %w", err)
	}
	for _, j := range chunk {
		if err := c.exec(ctx, tx, j); err != nil {
			return err
		}
	}
	return nil
}

// record adds j's node to the result, in the order checked.
func (c *checker) record(j *job) *Node {
	out := &Node{ID: j.n.ID, Selected: c.selected[j.n.ID], As: j.as}
	c.res.Nodes[j.n.ID] = out
	c.res.Order = append(c.res.Order, j.n.ID)
	return out
}

// exec runs one job under a savepoint, so that a failure leaves the
// transaction usable and every problem is reported, and records its status.
func (c *checker) exec(ctx context.Context, tx pgx.Tx, j *job) error {
	n := j.n
	out := c.record(j)
	c.checking([]*job{j})
	if msg := c.blocked(n); msg != "" {
		out.Status, out.As, out.Message = NotChecked, "", msg
		return nil
	}
	if j.err != nil {
		c.fail(out, j, j.err)
		return nil
	}
	if j.skip != "" {
		out.Status, out.As, out.Message = NotChecked, "", j.skip
		return nil
	}
	if j.existing {
		out.Status = OK
		if !out.Selected {
			out.Status = Existing
		}
		return nil
	}
	// The savepoint on its own, as in flush.
	if err := c.db(func() error { _, err := tx.Exec(ctx, "savepoint strata_check"); return err }); err != nil {
		return err
	}
	// One round trip, or on Citus one per statement.
	sends := [][]materialize.Step{j.steps}
	if c.citus {
		sends = nil
		for _, st := range j.steps {
			sends = append(sends, []materialize.Step{st})
		}
		sends = append(sends, nil)
	}
	for _, steps := range sends {
		stmt, body := batch(steps, !c.citus)
		if err := c.send(ctx, tx, j, out, stmt, body); err != nil || out.Status == Error {
			return err
		}
	}
	out.Status = OK
	return nil
}

// send runs stmt, of job j (whose SQL starts at body in it, or -1); when
// PostgreSQL refuses it, the savepoint of j is rolled back to and j fails.
func (c *checker) send(ctx context.Context, tx pgx.Tx, j *job, out *Node, stmt string, body int) error {
	if err := c.db(func() error { _, err := tx.Exec(ctx, stmt); return err }); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !isPg(err) || tx.Conn().IsClosed() {
			return err
		}
		if err := c.db(func() error {
			_, err := tx.Exec(context.WithoutCancel(ctx), "rollback to savepoint strata_check")
			return err
		}); err != nil {
			return fmt.Errorf("rolling back to a savepoint: %w", err)
		}
		var bad error
		_ = c.db(func() error { bad = badColumnType(ctx, tx, j.n); return nil })
		if bad != nil {
			c.fail(out, j, bad)
			return nil
		}
		if problems := c.scd2Refused(ctx, tx, j); len(problems) > 0 {
			c.failWith(out, problems)
			return nil
		}
		c.fail(out, j, c.explain(j, err, stmt, body))
		out.LockTimeout = postgres.IsLockTimeout(err)
	}
	return nil
}

// badColumnType is the type of seed n's column_types that the server
// refuses, placed at the entry that set it; nil when there is none (or n
// is not a seed).
func badColumnType(ctx context.Context, tx pgx.Tx, n *manifest.Node) error {
	if n.Kind != manifest.Seed || len(n.Config.ColumnTypes) == 0 {
		return nil
	}
	bad := seed.BadColumnType(ctx, tx, n.Config.ColumnTypes, true)
	if bad == nil {
		return nil
	}
	pos := n.EntryPos("column_types", bad.Column)
	if pos.File == "" {
		return bad
	}
	return diag.Diagnostic{Pos: pos, Msg: bad.Error()}
}

// blocked says why n is not checked: a parent failed ("not checked:
// parent x failed"), or one was not checked because x failed further up
// ("not checked: x failed, above parent y"); "" when its parents are fine.
func (c *checker) blocked(n *manifest.Node) string {
	var upstream string
	for _, p := range c.parents(n) {
		switch c.res.Nodes[p].Status {
		case Error:
			c.cause[n.ID] = p
			return "not checked: parent " + c.p.M.Nodes[p].Name + " failed"
		case NotChecked:
			if upstream == "" {
				upstream = p
			}
		}
	}
	if upstream == "" {
		return ""
	}
	root := c.cause[upstream]
	c.cause[n.ID] = root
	if root == "" {
		return "not checked: parent " + c.p.M.Nodes[upstream].Name + " was not checked"
	}
	return "not checked: " + c.p.M.Nodes[root].Name + " failed, above parent " + c.p.M.Nodes[upstream].Name
}

// batch joins steps into one round trip, then (release) the release of
// savepoint strata_check (which exec sets first, on its own); body is
// where the user's SQL starts in it (in characters), or -1. No steps and
// release: the release alone.
func batch(steps []materialize.Step, release bool) (string, int) {
	if len(steps) == 0 {
		return "release savepoint strata_check", -1
	}
	var b strings.Builder
	body := -1
	for i, s := range steps {
		if s.Body >= 0 {
			body = len([]rune(b.String())) + s.Body
		}
		b.WriteString(s.SQL)
		if i < len(steps)-1 || release {
			b.WriteString(";\n")
		}
	}
	if release {
		b.WriteString("release savepoint strata_check")
	}
	return b.String(), body
}

// fail records that j failed with err, placed in the user's files.
func (c *checker) fail(out *Node, j *job, err error) {
	out.Status = Error
	var d diag.Diagnostic
	if !errors.As(err, &d) {
		d = diag.Diagnostic{Pos: j.n.Pos, Msg: err.Error()}
	}
	d.Severity = diag.Error
	out.Message = d.Error()
	c.res.Diags = append(c.res.Diags, d)
}

func (c *checker) notes() {
	hooked := 0
	for _, j := range c.jobs {
		if c.selected[j.n.ID] && (len(j.n.Config.PreHook) > 0 || len(j.n.Config.PostHook) > 0) {
			hooked++
		}
	}
	if hooked == 0 && c.p.RunHooks == 0 {
		return
	}
	var parts []string
	if c.p.RunHooks > 0 {
		parts = append(parts, fmt.Sprintf("%d on-run-start/on-run-end hook%s", c.p.RunHooks, plural(c.p.RunHooks)))
	}
	if hooked > 0 {
		parts = append(parts, fmt.Sprintf("the pre_hook/post_hook of %d selected node%s", hooked, plural(hooked)))
	}
	c.res.Notes = append(c.res.Notes, "hooks are not run by check ("+strings.Join(parts, " and ")+"): their SQL is checked when they run")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// uniqueSorted sorts refs and drops repeats.
func uniqueSorted(refs []ColumnRef) []ColumnRef {
	sort.Slice(refs, func(i, k int) bool {
		if refs[i].Node != refs[k].Node {
			return refs[i].Node < refs[k].Node
		}
		return refs[i].Column < refs[k].Column
	})
	return slices.Compact(refs)
}
