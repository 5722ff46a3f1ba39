package run

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// dag is a test graph: node -> parents, with Order in a topological order.
type dag struct {
	order   []string
	parents map[string][]string
}

func newDAG(edges string) dag {
	d := dag{parents: map[string][]string{}}
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			d.order = append(d.order, n)
		}
	}
	for _, e := range strings.Fields(edges) {
		p, c, ok := strings.Cut(e, ">")
		if !ok {
			add(e)
			continue
		}
		add(p)
		add(c)
		d.parents[c] = append(d.parents[c], p)
	}
	return d
}

func (d dag) walk(threads int, failFast bool, exec func(ctx context.Context, id string) Result) map[string]Result {
	w := &Walk{Order: d.order, Parents: func(id string) []string { return d.parents[id] }, Threads: threads, FailFast: failFast, Exec: exec}
	out := map[string]Result{}
	for _, r := range w.Run(context.Background()) {
		out[r.ID] = r
	}
	return out
}

func TestRunnerWalkFailureSkipsOnlyDescendants(t *testing.T) {
	d := newDAG("a>b b>c a>d x>y x>z c>z")
	for i := range 50 {
		res := d.walk(1+i%4, false, func(ctx context.Context, id string) Result {
			if id == "a" {
				return Result{Status: Error, Message: "boom"}
			}
			return Result{Status: Success}
		})
		want := map[string]Status{"a": Error, "b": Skipped, "c": Skipped, "d": Skipped, "x": Success, "y": Success, "z": Skipped}
		for id, s := range want {
			if res[id].Status != s {
				t.Fatalf("run %d: %s is %s, want %s (%s)", i, id, res[id].Status, s, res[id].Message)
			}
		}
		if m := res["c"].Message; m != "skipped because a failed" {
			t.Fatalf("c: %q", m)
		}
		if m := res["z"].Message; m != "skipped because a failed" {
			t.Fatalf("z: %q", m)
		}
	}
}

func TestRunnerWalkFailFast(t *testing.T) {
	d := newDAG("a slow a>b c d e")
	for i := range 20 {
		var slowCancelled atomic.Bool
		res := d.walk(2, true, func(ctx context.Context, id string) Result {
			switch id {
			case "a":
				return Result{Status: Error, Message: "boom"}
			case "slow":
				select {
				case <-ctx.Done():
					slowCancelled.Store(true)
					return Result{Status: Error, Message: "cancelled"}
				case <-time.After(10 * time.Second):
					return Result{Status: Success}
				}
			}
			return Result{Status: Success}
		})
		if !slowCancelled.Load() {
			t.Fatalf("run %d: the running node was not cancelled", i)
		}
		for _, id := range []string{"b", "c", "d", "e"} {
			if res[id].Status != Skipped {
				t.Fatalf("run %d: %s is %s after --fail-fast", i, id, res[id].Status)
			}
		}
	}
}

func TestRunnerWalkPanicBecomesAnError(t *testing.T) {
	d := newDAG("a>b c")
	res := d.walk(2, false, func(ctx context.Context, id string) Result {
		if id == "a" {
			panic("kaboom")
		}
		return Result{Status: Success}
	})
	if res["a"].Status != Error || !strings.Contains(res["a"].Message, "kaboom") {
		t.Fatalf("a: %s %q", res["a"].Status, res["a"].Message)
	}
	if res["b"].Status != Skipped || res["c"].Status != Success {
		t.Fatalf("b %s, c %s", res["b"].Status, res["c"].Status)
	}
}

// TestRunnerWalkStartsNodesWhenTheirParentsAreDone: c needs only b, so it
// runs while a (on the same level as b) is still running. A level-by-level
// walker would wait for a, which waits for c: the test would time out.
func TestRunnerWalkStartsNodesWhenTheirParentsAreDone(t *testing.T) {
	d := newDAG("a b b>c a>e c>e")
	for i := range 50 {
		cStarted := make(chan struct{})
		var once sync.Once
		res := d.walk(2, false, func(ctx context.Context, id string) Result {
			switch id {
			case "a":
				select {
				case <-cStarted:
					return Result{Status: Success}
				case <-time.After(5 * time.Second):
					return Result{Status: Error, Message: "c did not start while a was running"}
				}
			case "c":
				once.Do(func() { close(cStarted) })
			}
			return Result{Status: Success}
		})
		for _, id := range d.order {
			if res[id].Status != Success {
				t.Fatalf("run %d: %s: %s %s", i, id, res[id].Status, res[id].Message)
			}
		}
	}
}

func TestRunnerWalkRespectsThreadsAndOrder(t *testing.T) {
	var edges []string
	for i := range 40 {
		edges = append(edges, fmt.Sprintf("root>n%d", i), fmt.Sprintf("n%d>leaf", i))
	}
	d := newDAG(strings.Join(edges, " "))
	for _, threads := range []int{1, 3, 8} {
		var running, peak atomic.Int64
		var mu sync.Mutex
		done := map[string]bool{}
		res := d.walk(threads, false, func(ctx context.Context, id string) Result {
			mu.Lock()
			for _, p := range d.parents[id] {
				if !done[p] {
					mu.Unlock()
					return Result{Status: Error, Message: "started before its parent " + p}
				}
			}
			mu.Unlock()
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			mu.Lock()
			done[id] = true
			mu.Unlock()
			return Result{Status: Success}
		})
		for id, r := range res {
			if r.Status != Success {
				t.Fatalf("threads %d: %s: %s", threads, id, r.Message)
			}
		}
		if peak.Load() > int64(threads) {
			t.Errorf("threads %d: %d nodes ran at once", threads, peak.Load())
		}
		if threads == 8 && peak.Load() < 2 {
			t.Errorf("threads 8: never ran two nodes at once")
		}
	}
}

// Under --fail-fast a node skipped after the failure passes that failure on
// to its children; it did not fail itself.
func TestRunnerWalkFailFastSkipMessages(t *testing.T) {
	d := newDAG("inc1 inc1>child t1 t1>t2 t2>t3")
	for _, threads := range []int{1, 2} {
		res := d.walk(threads, true, func(ctx context.Context, id string) Result {
			if id == "inc1" {
				return Result{Status: Error, Message: "boom"}
			}
			if threads == 1 {
				return Result{Status: Success}
			}
			<-ctx.Done() // t1 runs beside inc1 and is cancelled with it
			return Result{Status: Error, Message: "cancelled"}
		})
		want := map[string]string{
			"child": "skipped because inc1 failed",
			"t2":    "skipped: --fail-fast after an error in inc1",
			"t3":    "skipped: --fail-fast after an error in inc1",
		}
		if threads == 1 {
			want["t1"] = "skipped: --fail-fast after an error in inc1"
		}
		for id, msg := range want {
			if res[id].Status != Skipped || res[id].Message != msg {
				t.Errorf("threads %d: %s is %s %q, want skipped %q", threads, id, res[id].Status, res[id].Message, msg)
			}
		}
	}
}

func TestRunnerWalkSkipMessage(t *testing.T) {
	cases := []struct{ ancestor, failedFast, halted, want string }{
		{"model.p.a", "", "", "skipped because model.p.a failed"},
		{"model.p.a", "model.p.b", "", "skipped because model.p.a failed"},
		{"", "model.p.b", "", "skipped: --fail-fast after an error in model.p.b"},
		{"", "", "the server went away", "skipped: the server went away"},
		{"", "", "", "skipped: the run was stopped"},
	}
	for _, c := range cases {
		if got := skipMessage(c.ancestor, c.failedFast, c.halted); got != c.want {
			t.Errorf("skipMessage(%q, %q, %q) = %q, want %q", c.ancestor, c.failedFast, c.halted, got, c.want)
		}
	}
}

// A result with Halt stops the run: no other node starts, those running
// end, and the rest are skipped with Halt's reason (issue 21 item 8: the
// server went away).
func TestRunnerWalkHalt(t *testing.T) {
	d := newDAG("a>b x>y")
	for i := range 20 {
		var started sync.Map
		res := d.walk(1, false, func(ctx context.Context, id string) Result {
			started.Store(id, true)
			if id == "a" {
				return Result{Status: Error, Message: "unexpected EOF", Halt: "the server went away"}
			}
			return Result{Status: Success}
		})
		for _, id := range []string{"b", "y"} {
			if _, ok := started.Load(id); ok || res[id].Status != Skipped {
				t.Fatalf("run %d: %s ran or was not skipped: %s %q", i, id, res[id].Status, res[id].Message)
			}
		}
		if m := res["y"].Message; m != "skipped: the server went away" {
			t.Fatalf("y: %q", m)
		}
	}
}

// The tests that audited a model are reported with the results the model's
// build gave them, never run; a failed audit skips the model's descendants
// (those that wait for the tests too), and a passing one lets them run.
func TestRunnerWalkReportsAuditedTests(t *testing.T) {
	// m and its tests t1, t2; c reads m and waits for its tests (build); u
	// is a test of m that was not audited and runs after m.
	d := newDAG("m>t1 m>t2 m>u m>c t1>c t2>c")
	for i := range 20 {
		for _, fails := range []bool{false, true} {
			var ran sync.Map
			res := d.walk(1+i%4, false, func(ctx context.Context, id string) Result {
				ran.Store(id, true)
				if id != "m" {
					return Result{Status: Pass}
				}
				t1 := Result{ID: "t1", Status: Pass}
				if fails {
					t1 = Result{ID: "t1", Status: Fail, Failures: 2}
					return Result{Status: Error, Response: AuditFailed, Audits: []Result{t1, {ID: "t2", Status: Pass}}}
				}
				return Result{Status: Success, Audits: []Result{t1, {ID: "t2", Status: Pass}}}
			})
			for _, id := range []string{"t1", "t2"} {
				if _, ok := ran.Load(id); ok {
					t.Fatalf("run %d: the audited test %s ran again", i, id)
				}
			}
			want := map[string]Status{"m": Success, "t1": Pass, "t2": Pass, "u": Pass, "c": Pass}
			if fails {
				want = map[string]Status{"m": Error, "t1": Fail, "t2": Pass, "u": Skipped, "c": Skipped}
			}
			for id, s := range want {
				if res[id].Status != s {
					t.Fatalf("run %d (audit fails %v): %s is %s, want %s", i, fails, id, res[id].Status, s)
				}
			}
			if fails && res["t1"].Failures != 2 {
				t.Fatalf("t1 lost its failures: %+v", res["t1"])
			}
		}
	}
}

// A walk whose context is cancelled before it starts (Ctrl-C or SIGTERM
// while a build typed its unit tests' inputs) starts no node: each is
// skipped as the run was stopped, not run to fail on the cancelled context.
func TestRunnerWalkCancelledBeforeItStarts(t *testing.T) {
	d := newDAG("seed1>m seed2>m m>t x")
	for _, threads := range []int{1, 4} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var started sync.Map
		w := &Walk{Order: d.order, Parents: func(id string) []string { return d.parents[id] }, Threads: threads,
			Exec: func(ctx context.Context, id string) Result {
				started.Store(id, true)
				if ctx.Err() != nil {
					return Result{Status: Error, Message: "cancelled while it ran", Cancelled: true}
				}
				return Result{Status: Success}
			}}
		res := w.Run(ctx)
		if len(res) != len(d.order) {
			t.Fatalf("threads %d: %d results for %d nodes", threads, len(res), len(d.order))
		}
		for _, r := range res {
			if _, ok := started.Load(r.ID); ok {
				t.Errorf("threads %d: %s was started on a cancelled run", threads, r.ID)
			}
			if r.Status != Skipped || r.Message != "skipped: the run was stopped" {
				t.Errorf("threads %d: %s is %s %q, want skipped %q", threads, r.ID, r.Status, r.Message, "skipped: the run was stopped")
			}
		}
	}
}
