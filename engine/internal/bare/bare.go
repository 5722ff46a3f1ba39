// Package bare runs the bare-SQL baselines of the benchmarks: the minimal
// statements a careful person would type to do what strata does (drop and
// `create table as` per model, one `merge`, one `copy`), sent over pgx with
// the same parallelism as strata, so that a benchmark can report strata's
// time as a ratio of theirs (issue 22).
//
// A workload is a list of Models, each a few statements and the models it
// reads. Run sends each model's statements one at a time, in order, on one
// connection (as psql -f does), and starts a model once every model it reads
// is done, on the first of its workers that is free. Compare alternates
// strata and a baseline on the same machine, pair by pair, so that the load
// of the machine hits both sides alike.
package bare

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Model is one step of a workload: statements sent in order on one
// connection, after the models (indexes into the workload) in After.
type Model struct {
	Name  string
	Stmts []string
	After []int
}

// Run runs models in graph order over workers connections to url and
// returns the wall time from the first statement to the end of the last
// one (the connections are opened before the clock starts). A model whose
// statement fails stops the run with an error naming it.
func Run(ctx context.Context, url string, models []Model, workers int) (time.Duration, error) {
	workers = max(workers, 1)
	conns := make([]*pgx.Conn, workers)
	for i := range conns {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return 0, err
		}
		defer c.Close(context.Background())
		conns[i] = c
	}
	waiting := make([]int, len(models)) // parents not done yet
	children := make([][]int, len(models))
	for i, m := range models {
		for _, p := range m.After {
			if p < 0 || p >= len(models) || p == i {
				return 0, fmt.Errorf("bare: model %d (%s) waits for %d, which is not another model", i, m.Name, p)
			}
			waiting[i]++
			children[p] = append(children[p], i)
		}
	}
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		ready   []int
		done    int
		started int
		failed  error
	)
	for i := range models {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	if len(ready) == 0 && len(models) > 0 {
		return 0, fmt.Errorf("bare: every model waits for another (a cycle)")
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			for {
				mu.Lock()
				for len(ready) == 0 && done < len(models) && failed == nil && started-done > 0 {
					cond.Wait()
				}
				if len(ready) == 0 || failed != nil {
					mu.Unlock()
					cond.Broadcast()
					return
				}
				i := ready[0]
				ready = ready[1:]
				started++
				mu.Unlock()
				var err error
				for _, s := range models[i].Stmts {
					if _, err = c.Exec(ctx, s); err != nil {
						err = fmt.Errorf("bare: model %s: %s: %w", models[i].Name, firstLine(s), err)
						break
					}
				}
				mu.Lock()
				done++
				if err != nil && failed == nil {
					failed = err
				}
				for _, k := range children[i] {
					if waiting[k]--; waiting[k] == 0 {
						ready = append(ready, k)
					}
				}
				mu.Unlock()
				cond.Broadcast()
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if failed != nil {
		return took, failed
	}
	if done != len(models) {
		return took, fmt.Errorf("bare: %d of %d models never became ready (a cycle)", len(models)-done, len(models))
	}
	return took, nil
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}

// Pairs are the times of alternating runs of strata and of a baseline.
type Pairs struct {
	Strata, Bare []time.Duration
}

// Compare runs strata and then bare, n times in turn (S B S B ...), and
// returns their times. Each function runs its side once and returns its
// wall time; it fails the benchmark itself on an error.
func Compare(n int, strata, bare func() time.Duration) Pairs {
	var p Pairs
	for range n {
		p.Strata = append(p.Strata, strata())
		p.Bare = append(p.Bare, bare())
	}
	return p
}

// Ratios are strata's time over the baseline's, pair by pair, sorted.
func (p Pairs) Ratios() []float64 {
	out := make([]float64, len(p.Strata))
	for i := range p.Strata {
		out[i] = p.Strata[i].Seconds() / p.Bare[i].Seconds()
	}
	sort.Float64s(out)
	return out
}

// Report reports, under name (a unit suffix such as "threads1"), the median
// time of each side in seconds, the median of the pair ratios, and its
// spread: s-strata-<name>, s-bare-<name>, strata/bare-<name>,
// min-<name>, max-<name>.
func (p Pairs) Report(b *testing.B, name string) {
	if len(p.Strata) == 0 {
		return
	}
	r := p.Ratios()
	b.ReportMetric(median(p.Strata).Seconds(), "s-strata-"+name)
	b.ReportMetric(median(p.Bare).Seconds(), "s-bare-"+name)
	b.ReportMetric(medianF(r), "strata/bare-"+name)
	b.ReportMetric(r[0], "min-"+name)
	b.ReportMetric(r[len(r)-1], "max-"+name)
}

// Median is the median of ds.
func Median(ds []time.Duration) time.Duration { return median(ds) }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianF(fs []float64) float64 {
	s := slices.Clone(fs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
