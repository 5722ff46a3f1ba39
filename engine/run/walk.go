// Package run executes selected nodes against a target: a parallel walker
// over the graph (a node starts as soon as its parents are done, a failure
// skips only its descendants) and the executors that build seeds and
// models and run tests through the adapter. It never prints; it reports
// through the callbacks it is given.
package run

import (
	"container/heap"
	"context"
	"fmt"
	"time"

	"strata/engine/pgname"
)

// Status is the outcome of one node.
type Status string

const (
	Success Status = "success"
	Error   Status = "error"
	Skipped Status = "skipped"
	Pass    Status = "pass"
	Fail    Status = "fail"
	Warn    Status = "warn"
)

// Blocks reports whether a node with this status keeps its descendants from running.
func (s Status) Blocks() bool { return s == Error || s == Fail || s == Skipped }

// Result is what happened to one node.
type Result struct {
	ID       string
	Status   Status
	Message  string
	Response string // e.g. "SELECT 412", "COPY 2500"
	// Did is what a model's build did to its relation, as the output
	// says it ("created", "merged into", ...; materialize.Plan's Did);
	// "" for a seed or a test.
	Did       string
	Rows      int64
	Failures  int64 // failing rows of a test
	Started   time.Time
	Duration  time.Duration
	Compiled  string     // path of the compiled SQL
	Executed  string     // path of the executed SQL
	Relation  pgname.Rel // where it was built; a test's stored failures
	Attempts  int
	Skippable bool // skipped because a parent failed (as opposed to never selected)
	// Placed: Message names the file and line it is about (the YAML that
	// set a config), which is not the node's own file.
	Placed bool
	// Audits are the results of the tests that audited a model or seed
	// before it was published (write-audit-publish): the walker reports
	// them for those tests instead of running them.
	Audits []Result
	// Err is the error that failed the node, when it failed on one.
	Err error
	// Halt, when set, stops the whole run: the walker starts no other
	// node (those running go on) and skips the rest, saying
	// "skipped: "+Halt (the server went away).
	Halt string
	// Cancelled: the node failed because the run was cancelled (Ctrl-C,
	// SIGTERM) while it ran. Its children are skipped as the run was
	// stopped, not for its failure.
	Cancelled bool
	transient bool
	deadlock  bool // the server canceled the transaction to break a deadlock
	// moving: Citus refused the node's new table while it moves shards of
	// the colocation group of the table movingGroup ("" when unnamed).
	moving      bool
	movingGroup string
}

// Walk runs the nodes of Order, respecting Parents, Threads at a time.
type Walk struct {
	Order    []string
	Parents  func(id string) []string // only ids in Order count
	Threads  int
	FailFast bool
	Exec     func(ctx context.Context, id string) Result
	OnStart  func(id string, index, total int)
	OnEnd    func(r Result, index, total int)
}

type readyHeap []int

func (h readyHeap) Len() int           { return len(h) }
func (h readyHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h readyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *readyHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *readyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Run walks the graph and returns one result per node, in Order.
func (w *Walk) Run(ctx context.Context) []Result {
	n := len(w.Order)
	pos := make(map[string]int, n)
	for i, id := range w.Order {
		pos[id] = i
	}
	indeg := make([]int, n)
	children := make([][]int, n)
	for i, id := range w.Order {
		for _, p := range w.Parents(id) {
			if j, ok := pos[p]; ok {
				indeg[i]++
				children[j] = append(children[j], i)
			}
		}
	}
	threads := max(w.Threads, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	results := make([]Result, n)
	blockedBy := make([]string, n) // the failed ancestor that skips a node
	// preset are the results of tests that audited their model: reported
	// when they come up, not run.
	preset := map[int]Result{}
	ready := &readyHeap{}
	for i := range n {
		if indeg[i] == 0 {
			heap.Push(ready, i)
		}
	}
	type done struct {
		i int
		r Result
	}
	doneCh := make(chan done)
	running, finished := 0, 0
	stopping := false
	failedFast := "" // the node whose failure stopped the run under --fail-fast
	halted := ""     // why a node's result stopped the run (Result.Halt)
	// index numbers nodes in the order they start or are skipped ("3 of 27");
	// only this loop calls it.
	next := 0
	index := func() int { next++; return next }

	finish := func(i int, r Result) {
		results[i] = r
		finished++
		for _, a := range r.Audits {
			if j, ok := pos[a.ID]; ok && results[j].ID == "" {
				preset[j] = a
			}
		}
		// A node the walker skipped passes on its own cause (a failed
		// ancestor, or none when the run was stopping), never itself: it
		// did not fail. Nor does a node that ends after --fail-fast
		// cancelled it: its children are skipped for the first failure.
		// Nor does one the run's cancellation interrupted: its children
		// are skipped as the run was stopped.
		cause := w.Order[i]
		if (r.Status == Skipped && r.Skippable) || failedFast != "" || r.Cancelled {
			cause = blockedBy[i]
		}
		for _, c := range children[i] {
			if r.Status.Blocks() && blockedBy[c] == "" {
				blockedBy[c] = cause
			}
			indeg[c]--
			if indeg[c] == 0 {
				heap.Push(ready, c)
			}
		}
	}
	for finished < n {
		// A run cancelled before its first node (Ctrl-C or SIGTERM while
		// the unit tests' inputs were typed), or while nodes are started,
		// starts nothing more: what has not started is skipped, as between
		// nodes, not run to fail on the cancelled context.
		if ctx.Err() != nil {
			stopping = true
		}
		for ready.Len() > 0 && (running < threads || blockedBy[(*ready)[0]] != "" || stopping || hasPreset(preset, (*ready)[0])) {
			i := heap.Pop(ready).(int)
			id := w.Order[i]
			if r, ok := preset[i]; ok {
				r.ID = id
				if w.OnEnd != nil {
					w.OnEnd(r, index(), n)
				}
				finish(i, r)
				continue
			}
			if blockedBy[i] != "" || stopping {
				r := Result{ID: id, Status: Skipped, Message: skipMessage(blockedBy[i], failedFast, halted), Skippable: true}
				if w.OnEnd != nil {
					w.OnEnd(r, index(), n)
				}
				finish(i, r)
				continue
			}
			running++
			idx := index()
			if w.OnStart != nil {
				w.OnStart(id, idx, n)
			}
			go func(i, idx int) {
				r := w.safeExec(ctx, w.Order[i])
				if w.OnEnd != nil {
					w.OnEnd(r, idx, n)
				}
				doneCh <- done{i, r}
			}(i, idx)
		}
		if finished == n {
			break
		}
		if running == 0 && ready.Len() == 0 {
			break // cannot happen in a DAG; guards against a bad Parents function
		}
		d := <-doneCh
		running--
		finish(d.i, d.r)
		if d.r.Halt != "" && !stopping {
			// What runs goes on to its end (on a server that went away,
			// a quick failure); nothing else starts.
			stopping = true
			halted = d.r.Halt
		}
		if w.FailFast && (d.r.Status == Error || d.r.Status == Fail) && !stopping {
			stopping = true
			failedFast = w.Order[d.i]
			cancel()
		}
		if ctx.Err() != nil {
			stopping = true
		}
	}
	for i := range results {
		if results[i].ID == "" {
			results[i] = Result{ID: w.Order[i], Status: Error, Message: "not reached: its dependencies never finished (a cycle between nodes and their tests?)"}
			if w.OnEnd != nil {
				w.OnEnd(results[i], n, n)
			}
		}
	}
	return results
}

func hasPreset(preset map[int]Result, i int) bool {
	_, ok := preset[i]
	return ok
}

// skipMessage says why the walker skipped a node: a failed ancestor, else
// --fail-fast after the failure of failedFast, else a node's result that
// halted the run, else a cancelled run.
func skipMessage(failedAncestor, failedFast, halted string) string {
	switch {
	case failedAncestor != "":
		return "skipped because " + failedAncestor + " failed"
	case failedFast != "":
		return "skipped: --fail-fast after an error in " + failedFast
	case halted != "":
		return "skipped: " + halted
	}
	return "skipped: the run was stopped"
}

func (w *Walk) safeExec(ctx context.Context, id string) (r Result) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			r = Result{ID: id, Status: Error, Started: start, Duration: time.Since(start),
				Message: fmt.Sprintf("internal error (please report it): %v", p)}
		}
	}()
	r = w.Exec(ctx, id)
	r.ID = id
	if r.Started.IsZero() {
		r.Started = start
	}
	if r.Duration == 0 {
		r.Duration = time.Since(start)
	}
	return r
}
