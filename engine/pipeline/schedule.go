package pipeline

import (
	"slices"

	"strata/engine/manifest"
)

// Kinds are the kinds of node a run command runs: seed, run and test one
// kind each, build (and any other) all three.
func Kinds(cmd string) []manifest.Kind {
	switch cmd {
	case "seed":
		return []manifest.Kind{manifest.Seed}
	case "run":
		return []manifest.Kind{manifest.Model}
	case "test":
		return []manifest.Kind{manifest.Test}
	}
	return []manifest.Kind{manifest.Seed, manifest.Model, manifest.Test}
}

// Schedule is what a run walks.
type Schedule struct {
	// Order holds the selected nodes of the run's kinds in a stable
	// topological order; an ephemeral model is never run on its own.
	Order []string
	// Parents are the nodes a node waits for: its parents in the graph,
	// with the parents of the ephemeral ones it reads (see runParents),
	// and, when the run has tests among other kinds (build), the
	// error-severity tests of those parents and a model's own unit tests.
	Parents func(id string) []string
	// Audits are, by model or seed, the tests that audit its new version
	// before it is published (Audit); nil when the run does not audit.
	Audits map[string][]string
}

// Schedule orders the nodes of selected that are of one of kinds.
func (l *Project) Schedule(selected map[string]bool, kinds ...manifest.Kind) *Schedule {
	want := map[manifest.Kind]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	subset := map[string]bool{}
	for id := range selected {
		n := l.Manifest.Nodes[id]
		if want[n.Kind] && !n.Ephemeral() {
			subset[id] = true
		}
	}
	s := &Schedule{Order: l.Graph.Order(subset), Parents: l.runParents()}
	if want[manifest.Test] && len(kinds) > 1 {
		s.Parents = l.buildParents(subset, s.Parents)
	}
	s.Parents = l.colocationParents(subset, s.Parents)
	return s
}

// runParents returns the parents a node waits for in a run: its parents in
// the graph and, for each ephemeral one, that one's run parents too. An
// ephemeral model never runs: it is inlined into the nodes that ref it, so
// they read its parents and must wait for them, and be skipped when one
// fails. The walker counts only the parents it runs, so without this a
// model reading an ephemeral model that reads a view could start before
// the view is built. The ephemeral parents stay in the list: in build, a
// node also waits for their tests. The function it returns is for one
// goroutine.
func (l *Project) runParents() func(id string) []string {
	memo := map[string][]string{}
	var parents func(id string) []string
	parents = func(id string) []string {
		if ps, ok := memo[id]; ok {
			return ps
		}
		memo[id] = nil // a cycle (which Load reports) ends here
		var out []string
		for _, p := range l.Graph.Parents(id) {
			out = append(out, p)
			if l.Manifest.Nodes[p].Ephemeral() {
				out = append(out, parents(p)...)
			}
		}
		slices.Sort(out)
		out = slices.Compact(out)
		memo[id] = out
		return out
	}
	return parents
}

// SCD2 is the scd2 models among ids, in their order: a --full-refresh
// would destroy their history.
func (l *Project) SCD2(ids []string) []*manifest.Node {
	var out []*manifest.Node
	for _, id := range ids {
		if n := l.Manifest.Nodes[id]; n.Kind == manifest.Model && n.Config.Materialized == "scd2" {
			out = append(out, n)
		}
	}
	return out
}

// buildParents makes a node wait for the tests of its parents, so that a
// failing error-severity test skips what depends on the tested node.
func (l *Project) buildParents(subset map[string]bool, runParents func(string) []string) func(string) []string {
	testsOf := map[string][]string{}
	unitsOf := map[string][]string{}
	for id := range subset {
		n := l.Manifest.Nodes[id]
		switch {
		case n.IsUnit():
			unitsOf[n.TestInfo.Attached] = append(unitsOf[n.TestInfo.Attached], id)
		case n.Kind == manifest.Test && n.TestInfo != nil && n.TestInfo.Attached != "":
			testsOf[n.TestInfo.Attached] = append(testsOf[n.TestInfo.Attached], id)
		}
	}
	for _, ts := range unitsOf {
		slices.Sort(ts)
	}
	return func(id string) []string {
		ps := runParents(id)
		n := l.Manifest.Nodes[id]
		if n.Kind == manifest.Test {
			return ps
		}
		// A model is built after its unit tests pass (docs/unit-tests.md): one that
		// fails skips the model and what depends on it. An ephemeral
		// model is built into each model that reads it (ps holds it and
		// the ephemeral models it reads), so its unit tests are those
		// models' too.
		out := append(append([]string(nil), ps...), unitsOf[id]...)
		for _, p := range ps {
			if l.Manifest.Nodes[p].Ephemeral() {
				out = append(out, unitsOf[p]...)
			}
			for _, t := range testsOf[p] {
				if l.Manifest.Nodes[t].Config.Severity != "warn" && !l.needs(t, id) {
					out = append(out, t)
				}
			}
		}
		return out
	}
}

// needs reports whether test t reads node id or something built from it
// (a relationships test pointing at a child of the tested model); such a
// test cannot run before id, so id does not wait for it.
func (l *Project) needs(t, id string) bool {
	for _, d := range l.Manifest.Nodes[t].DependsOn {
		if d == id {
			return true
		}
		for _, a := range l.Graph.Ancestors(d, -1) {
			if a == id {
				return true
			}
		}
	}
	return false
}

// MissingSeeds are the seeds among ids whose CSV file does not exist (they
// are declared in YAML only): a run cannot load them.
func (l *Project) MissingSeeds(ids []string) []*manifest.Node {
	var out []*manifest.Node
	for _, id := range ids {
		if n := l.Manifest.Nodes[id]; n.Kind == manifest.Seed && n.Seed != nil && n.Seed.Missing {
			out = append(out, n)
		}
	}
	return out
}

// Audit makes the run of s audit (write-audit-publish, docs/tests.md): each
// model and seed of s with error-severity data tests among selected is
// built, then tested, in one transaction, and published only if they all
// pass; the tests' results are the build's, and they do not run again. A
// model or seed with audit: false in its config is tested after it is
// published, as are its warn-severity tests, and a test that also reads a
// node this run builds that is not upstream of the tested one (which would
// not be built yet, or could be building). A run without tests (run
// --audit) gets the tests that audit its models in its order.
func (l *Project) Audit(s *Schedule, selected map[string]bool) {
	inRun := map[string]bool{}
	for _, id := range s.Order {
		inRun[id] = true
	}
	ancestors := map[string]map[string]bool{}
	upstream := func(of, id string) bool {
		a, ok := ancestors[of]
		if !ok {
			a = map[string]bool{}
			for _, x := range l.Graph.Ancestors(of, -1) {
				a[x] = true
			}
			ancestors[of] = a
		}
		return a[id]
	}
	s.Audits = map[string][]string{}
	var added []string
	for _, id := range l.Manifest.Sorted() {
		t := l.Manifest.Nodes[id]
		// A unit test is no audit: it runs before the model, on rows it gives.
		if !selected[id] || t.Kind != manifest.Test || t.TestInfo == nil || t.IsUnit() || t.Config.Severity == "warn" {
			continue
		}
		on := t.TestInfo.Attached
		n := l.Manifest.Nodes[on]
		if n == nil || !inRun[on] || !Audited(n) {
			continue
		}
		ok := true
		for _, d := range t.DependsOn {
			if d != on && inRun[d] && !upstream(on, d) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		s.Audits[on] = append(s.Audits[on], id)
		if !inRun[id] {
			added = append(added, id)
		}
	}
	if len(added) == 0 {
		return
	}
	subset := map[string]bool{}
	for _, id := range append(s.Order, added...) {
		subset[id] = true
	}
	s.Order = l.Graph.Order(subset)
}

// Audited says whether a node is built under write-audit-publish when its
// run audits: a model (not ephemeral) or seed whose config does not say
// audit: false.
func Audited(n *manifest.Node) bool {
	switch {
	case n.Kind == manifest.Model && n.Config.Materialized != "ephemeral":
	case n.Kind == manifest.Seed:
	default:
		return false
	}
	return n.Config.Audit == nil || *n.Config.Audit
}
