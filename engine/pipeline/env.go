package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"strata/engine/adapter/postgres"
	"strata/engine/compile"
	"strata/engine/graph"
	"strata/engine/manifest"
	"strata/engine/pgname"
	"strata/engine/state"
)

// Env is the environment the project builds in (--env); "" is production.
func (l *Project) Env() string { return l.Manifest.Target.Env }

// Scope is whose records a run of l writes: its project and target, in
// its environment.
func (l *Project) Scope() state.Scope {
	return state.Scope{Project: l.Project.Name, Target: l.Target.Name, Env: l.Env()}
}

// ProdScope is production's records of l's project and target.
func (l *Project) ProdScope() state.Scope {
	s := l.Scope()
	s.Env = ""
	return s
}

// ReadState reads what production recorded in the target (strata_meta),
// which state: selectors without --state, defer and plan compare with.
// Nothing recorded is state.ErrMissing.
func (l *Project) ReadState(ctx context.Context, q postgres.Querier) error {
	recs, err := state.Read(ctx, q, l.ProdScope())
	if recs == nil {
		recs = map[string]*state.Node{}
	}
	if err == nil && len(recs) == 0 {
		// strata_meta holds other projects' or targets' records only.
		err = state.NothingRecorded(l.ProdScope())
	}
	l.prod = recs
	if l.Env() == "" || err != nil && !errors.Is(err, state.ErrMissing) {
		return err
	}
	// An environment over an empty production may have built on its own.
	own, oerr := state.Read(ctx, q, l.Scope())
	if oerr != nil && !errors.Is(oerr, state.ErrMissing) {
		return oerr
	}
	l.own = own
	return err
}

// Recorded is production's record of each node, by id, as ReadState read it.
func (l *Project) Recorded() map[string]*state.Node { return l.prod }

// UsesState says whether a selection has a state: selector, which
// compares with the state recorded in the target unless --state is given.
func UsesState(s Selection) bool {
	if s.State != "" || s.IDs != nil {
		return false
	}
	for _, x := range append(append([]string(nil), s.Select...), s.Exclude...) {
		if strings.Contains(x, "state:") {
			return true
		}
	}
	return false
}

// recorded answers state: selectors from production's records in the target.
type recorded struct {
	l *Project
}

var _ graph.State = recorded{}

// Modified: the SQL, the config, a macro used, or a var or env_var read
// changed since production built the node (or production never did).
func (s recorded) Modified(n *manifest.Node) bool {
	return s.l.modifiedSince(n, s.l.prod[n.ID])
}

// modifiedSince says whether n changed since old recorded it (or nothing
// did).
func (l *Project) modifiedSince(n *manifest.Node, old *state.Node) bool {
	if old == nil {
		return true
	}
	cur := l.NodeArtifact(n)
	return old.Checksum != cur.Checksum || old.ConfigSum != cur.ConfigSum || !sameMap(old.Vars, cur.Vars) || !sameMap(old.EnvVars, cur.EnvVars)
}

// deferTo is the record a ref to node id, not built in this run, reads: the
// environment's own build of it when that is of the project as it is now
// (what an earlier run in the environment, or the run retry repeats,
// built), else production's; nil when neither has it.
func (l *Project) deferTo(id string) *state.Node {
	if l.ownCurrent(id) {
		return l.own[id]
	}
	return l.prod[id]
}

// ownCurrent says whether the environment's own build of node id is of
// the project as it is now: what a ref to it reads when this run does not
// build it (deferTo).
func (l *Project) ownCurrent(id string) bool {
	rec := l.own[id]
	return rec != nil && rec.Relation.Name != "" && !l.modifiedSince(l.Manifest.Nodes[id], rec)
}

func (s recorded) New(n *manifest.Node) bool { return s.l.prod[n.ID] == nil }

// Result: the target records no run's results; result: needs --state.
func (s recorded) Result(string) (string, bool) { return "", false }

// RunResults: the target records what production built, not a run's
// results (a state: selector beside result: reads it, without --state).
func (s recorded) RunResults() error {
	return errors.New("needs --state DIR (a folder holding an earlier run_results.json): without it, state: compares with what production recorded in the target, which holds no run's results")
}

// Record is what the target records of node n built from sql with status,
// by invocation inv.
func (l *Project) Record(n *manifest.Node, sql, status, inv string) state.Node {
	an := l.NodeArtifact(n)
	rec := state.Node{ID: n.ID, Kind: string(n.Kind), Name: n.Name, Checksum: an.Checksum, ConfigSum: an.ConfigSum, Config: an.Config,
		Vars: an.Vars, EnvVars: an.EnvVars, SQL: sql, Status: status, Invocation: inv}
	if sql != "" {
		rec.SQLHash = state.Hash(sql)
	}
	if n.Kind == manifest.Model || n.Kind == manifest.Seed {
		rec.Materialized = n.Config.Materialized
		if n.Kind == manifest.Seed {
			rec.Materialized = "seed"
		}
		if !n.Ephemeral() {
			rec.Relation = n.Relation
		}
	}
	if n.Kind == manifest.Test && n.Config.StoreFailures {
		rec.Relation = l.Manifest.FailuresTable(n)
	}
	return rec
}

// DeferError is a build in an environment that would read from production
// a node production does not have.
type DeferError struct {
	Env     string
	Missing []string // "model stg_customers (read by stg_orders): why"
	// Lacking names the nodes of Missing, sorted; Unbuilt is set when the
	// command builds none of some of them (test builds nothing, run no
	// seed), so that --no-defer, which builds what the command builds,
	// would not build them either.
	Lacking []string
	Unbuilt string // "strata test builds nothing", "strata run builds no seeds", "strata compile builds nothing"
}

func (e *DeferError) Error() string {
	one := len(e.Missing) == 1
	msg := fmt.Sprintf("environment %s defers to production what it does not build, but production lacks %s: ", e.Env, strings.Join(e.Missing, "; "))
	if e.Unbuilt == "" {
		return msg + fmt.Sprintf("build %s in production first, or pass --no-defer to build %s in the environment too", pick(one, "it", "them"), pick(one, "it", "them"))
	}
	sel := strings.Join(e.Lacking, " ")
	if len(e.Lacking) > 1 {
		sel = "'" + sel + "'"
	}
	return msg + fmt.Sprintf("%s (nor does it with --no-defer): build %s in the environment first (strata build --env %s -s %s) or in production", e.Unbuilt, pick(one, "it", "them"), e.Env, sel)
}

// unbuilt says which of the kinds of lacking nodes command cmd does not
// build ("strata test builds nothing"), or "" when it builds them all.
// compile builds nothing, though it compiles what build would build.
func unbuilt(cmd string, lacking []manifest.Kind) string {
	if cmd == "compile" {
		return "strata compile builds nothing"
	}
	kinds := Kinds(cmd)
	for _, k := range lacking {
		if slices.Contains(kinds, k) {
			continue
		}
		switch {
		case len(kinds) == 1 && kinds[0] == manifest.Test:
			return "strata test builds nothing"
		case len(kinds) == 1 && kinds[0] == manifest.Model:
			return "strata run builds no seeds"
		case len(kinds) == 1 && kinds[0] == manifest.Seed:
			return "strata seed builds no models"
		}
		return fmt.Sprintf("this command builds no %ss", k)
	}
	return ""
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// WithParents is selected and every ancestor of its nodes, with their
// tests: an environment built with --no-defer builds what it reads.
func (l *Project) WithParents(selected map[string]bool) map[string]bool {
	out := make(map[string]bool, len(selected))
	for id := range selected {
		out[id] = true
		if n := l.Manifest.Nodes[id]; n != nil && n.Kind != manifest.Test {
			for _, a := range l.Graph.Ancestors(id, -1) {
				out[a] = true
			}
		}
	}
	l.Graph.AddTests(out)
	return out
}

// Defer makes a run in an environment read from production what it does
// not build: every ref to a model or seed that the run does not build
// (not selected, or not of the kinds of nodes command cmd runs, Kinds:
// run builds no seed, test nothing) renders as the relation production's
// record names (ReadState read them), or the environment's own when it
// built the node as it is now (deferTo), which must still exist; selected
// nodes are rendered again so. It returns the selection without the tests
// that read only what production built, which are not rerun. In
// production it returns selected as it is.
func (l *Project) Defer(ctx context.Context, q postgres.Querier, selected map[string]bool, cmd string) (map[string]bool, error) {
	out, _, err := l.deferSelection(ctx, q, selected, cmd, false)
	return out, err
}

// NoDefer is the selection of a build in an environment with --no-defer:
// selected and every ancestor of its models, built in the environment. A
// test among them may read a node that is none of those (a relationships
// test's other model): that node reads as Defer would read it, the
// environment's own current build or production's; a test reading one
// that neither has is left out, and named in left (sorted). With q nil
// (offline: compile), every node not built reads as production places
// it, whether production built it or not.
//
// A retry (retry true) selects exactly the nodes the run it repeats did
// not complete: the ancestors that run built are the environment's now,
// and are not built again.
func (l *Project) NoDefer(ctx context.Context, q postgres.Querier, selected map[string]bool, cmd string, retry bool) (out map[string]bool, left []string, err error) {
	if !retry {
		selected = l.WithParents(selected)
	}
	return l.deferSelection(ctx, q, selected, cmd, true)
}

func (l *Project) deferSelection(ctx context.Context, q postgres.Querier, selected map[string]bool, cmd string, noDefer bool) (map[string]bool, []string, error) {
	if l.Env() == "" {
		return selected, nil, nil
	}
	kinds := Kinds(cmd)
	out := make(map[string]bool, len(selected))
	for id := range selected {
		out[id] = true
	}
	builds := func(id string) bool {
		n := l.Manifest.Nodes[id]
		return n != nil && (n.Kind == manifest.Model || n.Kind == manifest.Seed) && !n.Ephemeral()
	}
	// What this run builds: the selected models and seeds of the kinds
	// the command runs. A selected seed is not built by run, and nothing
	// by test: refs to them read what the environment or production
	// built, not the environment's schema, where nothing may be.
	built := func(id string) bool {
		return out[id] && builds(id) && slices.Contains(kinds, l.Manifest.Nodes[id].Kind)
	}
	// A selected test stays when it reads something built here (by this
	// run, or by an earlier one in the environment as the project is
	// now), when it is new or changed since production ran it (it never
	// passed there), and when it is a unit test (it reads no relation).
	// Only an unchanged test of what is all production's, which passed
	// there, is left out.
	for id := range selected {
		n := l.Manifest.Nodes[id]
		if n.Kind != manifest.Test || noDefer {
			continue
		}
		keep := n.IsUnit() || l.modifiedSince(n, l.prod[id])
		for _, p := range n.DependsOn {
			keep = keep || built(p) || l.ownCurrent(p)
		}
		if !keep {
			delete(out, id)
		}
	}
	parents := l.runParents()
	readers := map[string][]string{} // deferred node -> the selected nodes that read it
	for id := range out {
		if n := l.Manifest.Nodes[id]; builds(id) && !built(id) || n.Kind == manifest.Model && !slices.Contains(kinds, manifest.Model) {
			continue // not run: what it reads is not read
		}
		for _, p := range parents(id) {
			if !built(p) && builds(p) {
				readers[p] = append(readers[p], l.Manifest.Nodes[id].Name)
			}
		}
	}
	deferred := map[string]pgname.Rel{}
	if q == nil {
		// Offline (compile --env --no-defer): what the run does not
		// build reads as production places it.
		for id, n := range l.Manifest.Nodes {
			if builds(id) && !built(id) {
				deferred[id] = pgname.Rel{Schema: strings.TrimSuffix(n.Relation.Schema, pgname.EnvSep+l.Env()), Name: n.Relation.Name}
			}
		}
		return l.recompile(out, deferred)
	}
	var missing, lacking []string // why, and the ids of what production lacks
	var check []string
	for id := range readers {
		rec := l.deferTo(id)
		n := l.Manifest.Nodes[id]
		if rec == nil || rec.Relation.Name == "" {
			missing = append(missing, fmt.Sprintf("%s %s (read by %s): production has no record of it", n.Kind, n.Name, names(readers[id])))
			lacking = append(lacking, id)
			continue
		}
		deferred[id] = rec.Relation
		check = append(check, id)
	}
	// gone are the ids of check whose deferred relation does not exist.
	gone := func(check []string) ([]string, error) {
		if len(check) == 0 {
			return nil, nil
		}
		rels := make([]string, len(check))
		for i, id := range check {
			rels[i] = deferred[id].Quoted()
		}
		rows, err := q.Query(ctx, "select i - 1 from unnest($1::text[]) with ordinality as r(rel, i) where to_regclass(rel) is null", rels)
		if err != nil {
			return nil, err
		}
		var out []string
		for rows.Next() {
			var i int
			if err := rows.Scan(&i); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, check[i])
		}
		rows.Close()
		return out, rows.Err()
	}
	lost, err := gone(check)
	if err != nil {
		return nil, nil, err
	}
	// The environment's own build of a node, dropped since (by hand), is
	// not the end: production's is read, as if the environment had never
	// built it.
	var again, still []string
	for _, id := range lost {
		if prod := l.prod[id]; l.ownCurrent(id) && prod != nil && prod.Relation.Name != "" && prod.Relation != deferred[id] {
			deferred[id] = prod.Relation
			again = append(again, id)
		} else {
			still = append(still, id)
		}
	}
	lostAgain, err := gone(again)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range append(still, lostAgain...) {
		n := l.Manifest.Nodes[id]
		missing = append(missing, fmt.Sprintf("%s %s (read by %s): its relation %s no longer exists", n.Kind, n.Name, names(readers[id]), deferred[id]))
		lacking = append(lacking, id)
	}
	var left []string
	switch {
	case len(missing) > 0 && !noDefer:
		sort.Strings(missing)
		var names []string
		var lackingKinds []manifest.Kind
		for _, id := range lacking {
			n := l.Manifest.Nodes[id]
			names = append(names, n.Name)
			lackingKinds = append(lackingKinds, n.Kind)
		}
		sort.Strings(names)
		return nil, nil, &DeferError{Env: l.Env(), Missing: missing, Lacking: names, Unbuilt: unbuilt(cmd, lackingKinds)}
	case len(missing) > 0:
		// With --no-defer only tests read what the run does not build:
		// those that would read a relation that is nowhere are left out.
		for _, p := range lacking {
			for id := range out {
				if n := l.Manifest.Nodes[id]; n.Kind == manifest.Test && slices.Contains(parents(id), p) {
					delete(out, id)
					left = append(left, n.Name)
				}
			}
		}
		sort.Strings(left)
		left = slices.Compact(left)
	}
	// Every node not built here that production has reads as production's,
	// also where only an ephemeral model or a test's argument names it.
	for id := range l.prod {
		if _, ok := deferred[id]; ok || built(id) || !builds(id) {
			continue
		}
		if rec := l.deferTo(id); rec != nil && rec.Relation.Name != "" {
			deferred[id] = rec.Relation
		}
	}
	out, _, err = l.recompile(out, deferred)
	return out, left, err
}

// recompile renders the models and tests of out again, with refs to
// deferred reading the relations it names.
func (l *Project) recompile(out map[string]bool, deferred map[string]pgname.Rel) (map[string]bool, []string, error) {
	l.Compiler.Defer = deferred
	for id := range out {
		n := l.Manifest.Nodes[id]
		if n.Kind != manifest.Model && n.Kind != manifest.Test {
			continue
		}
		if _, ok := l.Compiled[id]; !ok {
			continue
		}
		res, err := l.Compiler.Node(n, compile.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", n.Path, err)
		}
		l.Compiled[id] = res
	}
	return out, nil, nil
}

// builtNodes are the ids of the project's models and seeds, and the
// relations they place.
func (l *Project) builtNodes() (ids []string, rels []pgname.Rel) {
	for id, n := range l.Manifest.Nodes {
		if n.Kind != manifest.Model && n.Kind != manifest.Seed {
			continue
		}
		ids = append(ids, id)
		if !n.Ephemeral() {
			rels = append(rels, n.Relation)
		}
	}
	return ids, rels
}

// names is a sorted, comma-separated list of names.
func names(ns []string) string {
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}

// EnvSchemas are the production schemas l places models, seeds and
// stored test failures in: what an environment's name must leave room for
// (pgname.CheckEnv).
func (l *Project) EnvSchemas() []string { return envSchemas(l.Manifest) }

func envSchemas(m *manifest.Manifest) []string {
	set := map[string]bool{m.Target.SchemaPrefix + "audit": true}
	for _, n := range m.Nodes {
		if n.Kind == manifest.Model || n.Kind == manifest.Seed {
			set[strings.TrimSuffix(n.Relation.Schema, pgname.EnvSep+m.Target.Env)] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// LockName is what the run lock of project in environment env is keyed
// by: builds of one environment (or of production) serialize, and
// different environments build side by side.
func LockName(project, env string) string {
	if env == "" {
		return project
	}
	return project + " env " + env
}

// BeginState records the start of a run of command by strata version in
// the target's state (creating or migrating strata_meta first) and returns
// its invocation id, which RunOptions.Invocation takes.
func (l *Project) BeginState(ctx context.Context, db *postgres.Adapter, command, version string, started time.Time) (string, error) {
	inv := state.Invocation{ID: state.NewInvocation(), Scope: l.Scope(), Command: command, Started: started, Version: version}
	if err := state.Begin(ctx, db.Shared(), inv); err != nil {
		return "", err
	}
	return inv.ID, nil
}

// EndState records the end of invocation inv, and the project's sources
// and exposures as they are now: they are not built, but state: compares
// them too.
func (l *Project) EndState(ctx context.Context, db *postgres.Adapter, inv string, ok bool) error {
	if inv == "" {
		return nil
	}
	scope := l.Scope()
	var stmts []string
	for _, id := range l.Manifest.Sorted() {
		n := l.Manifest.Nodes[id]
		if n.Kind == manifest.Source || n.Kind == manifest.Exposure {
			stmts = append(stmts, state.Write(scope, l.Record(n, "", "defined", inv)))
		}
	}
	if len(stmts) > 0 {
		if _, err := db.Shared().Exec(ctx, strings.Join(stmts, ";\n")); err != nil {
			return err
		}
	}
	if scope.Env == "" {
		// Production forgets the models and seeds removed from the
		// project once their relations are gone (plan lists them until
		// then).
		ids, rels := l.builtNodes()
		if err := state.Forget(ctx, db.Shared(), scope, ids, rels); err != nil {
			return err
		}
	}
	return state.Finish(ctx, db.Shared(), inv, map[bool]string{true: "success", false: "error"}[ok])
}
