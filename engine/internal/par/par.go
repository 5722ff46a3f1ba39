// Package par runs the iterations of a loop on a few goroutines.
package par

import "sync"

// For calls f(i) for every i in [0, n) from at most workers goroutines (at
// least one), each taking every workers-th index, and returns when all calls
// have. f must only write what belongs to its index.
func For(n, workers int, f func(i int)) {
	workers = max(1, min(workers, n))
	if workers == 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				f(i)
			}
		}()
	}
	wg.Wait()
}
