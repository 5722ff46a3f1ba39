// Package graph is the project's dependency graph: edges from each node to
// the nodes that use it, cycle detection, a stable order, and selection
// (the -s and --exclude selectors of docs/selectors.md). It knows nodes only
// by id and never renders or runs anything.
package graph

import (
	"container/heap"
	"fmt"
	"slices"
	"sort"
	"strings"

	dgraph "github.com/dominikbraun/graph"

	"strata/engine/diag"
	"strata/engine/manifest"
)

// Graph is the DAG of a manifest. Edges go from a node to the nodes that depend on it.
type Graph struct {
	M        *manifest.Manifest
	parents  map[string][]string
	children map[string][]string
	// Columns, when set, gives what the column: selector reads (what strata
	// check found), or why there is none.
	Columns func() (ColumnUsage, error)
}

// ColumnUsage answers column: selectors: which nodes read a column of a
// node, as strata check found from PostgreSQL's records of the views.
type ColumnUsage interface {
	// Readers are the nodes that read column of node id.
	Readers(id, column string) []string
	// Columns are the columns node id produces, when check found them.
	Columns(id string) ([]string, bool)
}

// New builds the graph and reports cycles as errors that print the cycle.
func New(m *manifest.Manifest) (*Graph, diag.List) {
	var diags diag.List
	ids := m.Sorted()
	gr := &Graph{M: m, parents: make(map[string][]string, len(ids)), children: make(map[string][]string, len(ids))}
	for _, id := range ids {
		for _, dep := range m.Nodes[id].DependsOn {
			if _, ok := m.Nodes[dep]; !ok || slices.Contains(gr.parents[id], dep) {
				continue // unknown (reported by the manifest), or the same edge twice
			}
			gr.parents[id] = append(gr.parents[id], dep)
			gr.children[dep] = append(gr.children[dep], id)
		}
	}
	for _, id := range ids {
		sort.Strings(gr.children[id])
		sort.Strings(gr.parents[id])
	}
	for _, id := range ids {
		for _, p := range gr.parents[id] {
			if p == id {
				n := m.Nodes[id]
				diags.Errorf(n.RefPos(n.Name), "cycle: %s -> %s (a model cannot ref itself; use {{ this }})", m.Nodes[id].Name, m.Nodes[id].Name)
			}
		}
	}
	// Every cycle lies among the nodes a topological sort cannot place, so
	// only those go into the (much slower) strongly connected components
	// search; a project without cycles, the usual case, skips it.
	rest := gr.unordered()
	if len(rest) == 0 {
		diags.Sort()
		return gr, diags
	}
	g := dgraph.New(dgraph.StringHash, dgraph.Directed())
	for _, id := range rest {
		_ = g.AddVertex(id)
	}
	for _, id := range rest {
		for _, c := range gr.children[id] {
			_ = g.AddEdge(id, c) // an edge to a node outside rest fails, and cannot be on a cycle
		}
	}
	sccs, err := dgraph.StronglyConnectedComponents(g)
	if err != nil {
		diags.Errorf(diag.Pos{}, "cannot check the graph for cycles: %v", err)
		return gr, diags
	}
	for _, comp := range sccs {
		if len(comp) < 2 {
			continue
		}
		cycle := gr.cycleIn(comp)
		names := make([]string, len(cycle))
		for i, id := range cycle {
			names[i] = m.Nodes[id].Name
		}
		names = append(names, names[0])
		// Each node of the cycle is read by the next; the first reads the
		// last, and that ref closes the cycle: the error points at it.
		first, last := m.Nodes[cycle[0]], m.Nodes[cycle[len(cycle)-1]]
		diags.Errorf(first.RefPos(last.Name), "dependency cycle: %s (each is built from the one before it; this ref to %s closes the cycle)", strings.Join(names, " -> "), last.Name)
	}
	diags.Sort()
	return gr, diags
}

// unordered returns the nodes a topological sort cannot place: those on a
// cycle and those downstream of one, sorted.
func (gr *Graph) unordered() []string {
	indeg := make(map[string]int, len(gr.M.Nodes))
	var ready []string
	for id := range gr.M.Nodes {
		indeg[id] = len(gr.parents[id])
		if indeg[id] == 0 {
			ready = append(ready, id)
		}
	}
	for len(ready) > 0 {
		id := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		delete(indeg, id)
		for _, c := range gr.children[id] {
			indeg[c]--
			if indeg[c] == 0 {
				ready = append(ready, c)
			}
		}
	}
	out := make([]string, 0, len(indeg))
	for id := range indeg {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// cycleIn finds one cycle through the smallest id of a strongly connected component.
func (gr *Graph) cycleIn(comp []string) []string {
	in := map[string]bool{}
	for _, id := range comp {
		in[id] = true
	}
	sort.Strings(comp)
	start := comp[0]
	// BFS from start along child edges inside the component back to start.
	prev := map[string]string{}
	queue := []string{start}
	seen := map[string]bool{start: true}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, c := range gr.children[cur] {
			if !in[c] {
				continue
			}
			if c == start {
				path := []string{cur}
				for p := cur; p != start; {
					p = prev[p]
					path = append(path, p)
				}
				for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
					path[i], path[j] = path[j], path[i]
				}
				return path
			}
			if !seen[c] {
				seen[c] = true
				prev[c] = cur
				queue = append(queue, c)
			}
		}
	}
	return comp
}

// Parents returns the ids a node depends on.
func (gr *Graph) Parents(id string) []string { return gr.parents[id] }

// Children returns the ids that depend on a node.
func (gr *Graph) Children(id string) []string { return gr.children[id] }

// Order returns ids in a stable topological order: among the nodes that are
// ready, the smallest id first. Only ids in subset are returned (all when nil).
func (gr *Graph) Order(subset map[string]bool) []string {
	indeg := map[string]int{}
	for id := range gr.M.Nodes {
		indeg[id] = len(gr.parents[id])
	}
	h := &idHeap{}
	for id, d := range indeg {
		if d == 0 {
			heap.Push(h, id)
		}
	}
	var out []string
	for h.Len() > 0 {
		id := heap.Pop(h).(string)
		if subset == nil || subset[id] {
			out = append(out, id)
		}
		for _, c := range gr.children[id] {
			indeg[c]--
			if indeg[c] == 0 {
				heap.Push(h, c)
			}
		}
	}
	return out
}

type idHeap []string

func (h idHeap) Len() int           { return len(h) }
func (h idHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h idHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *idHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Ancestors returns the ids above id, up to depth levels (depth < 0: all).
func (gr *Graph) Ancestors(id string, depth int) []string { return gr.walk(id, depth, gr.parents) }

// Descendants returns the ids below id, up to depth levels (depth < 0: all).
func (gr *Graph) Descendants(id string, depth int) []string {
	return gr.walk(id, depth, gr.children)
}

// walk returns the ids reached from id along next, up to depth levels. A
// step onto an ephemeral model costs no level: it is inlined into the
// models that ref it, so they read its parents directly, and 1+m picks the
// view that m reads through an ephemeral model.
func (gr *Graph) walk(id string, depth int, next map[string][]string) []string {
	seen := map[string]bool{id: true}
	frontier := []string{id}
	var out []string
	for level := 0; len(frontier) > 0 && (depth < 0 || level < depth); level++ {
		var nf []string
		// frontier grows while it is read: the ephemeral models found at
		// this level are stepped through at this level.
		for i := 0; i < len(frontier); i++ {
			for _, n := range next[frontier[i]] {
				if seen[n] {
					continue
				}
				seen[n] = true
				out = append(out, n)
				if gr.M.Nodes[n].Ephemeral() {
					frontier = append(frontier, n)
				} else {
					nf = append(nf, n)
				}
			}
		}
		frontier = nf
	}
	return out
}

func (gr *Graph) String() string { return fmt.Sprintf("graph of %d nodes", len(gr.M.Nodes)) }
