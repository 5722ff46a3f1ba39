package pipeline

import (
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
	// Parents are the nodes a node waits for: its parents in the graph and,
	// when the run has tests among other kinds (build), the error-severity
	// tests of those parents.
	Parents func(id string) []string
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
		if want[n.Kind] && !(n.Kind == manifest.Model && n.Config.Materialized == "ephemeral") {
			subset[id] = true
		}
	}
	s := &Schedule{Order: l.Graph.Order(subset), Parents: l.Graph.Parents}
	if want[manifest.Test] && len(kinds) > 1 {
		s.Parents = l.buildParents(subset)
	}
	return s
}

// SCD2 is the first scd2 model among ids, or nil: a --full-refresh would
// destroy its history.
func (l *Project) SCD2(ids []string) *manifest.Node {
	for _, id := range ids {
		if n := l.Manifest.Nodes[id]; n.Kind == manifest.Model && n.Config.Materialized == "scd2" {
			return n
		}
	}
	return nil
}

// buildParents makes a node wait for the tests of its parents, so that a
// failing error-severity test skips what depends on the tested node.
func (l *Project) buildParents(subset map[string]bool) func(string) []string {
	testsOf := map[string][]string{}
	for id := range subset {
		n := l.Manifest.Nodes[id]
		if n.Kind == manifest.Test && n.TestInfo != nil && n.TestInfo.Attached != "" {
			testsOf[n.TestInfo.Attached] = append(testsOf[n.TestInfo.Attached], id)
		}
	}
	return func(id string) []string {
		ps := l.Graph.Parents(id)
		n := l.Manifest.Nodes[id]
		if n.Kind == manifest.Test {
			return ps
		}
		out := append([]string(nil), ps...)
		for _, p := range ps {
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
