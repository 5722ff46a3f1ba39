package par

import (
	"sync/atomic"
	"testing"
)

func TestForCallsEveryIndexOnce(t *testing.T) {
	for _, tc := range []struct{ n, workers int }{{0, 4}, {1, 4}, {7, 1}, {7, 3}, {1000, 2}, {5, 0}, {3, 10}} {
		hits := make([]int32, tc.n)
		var calls atomic.Int32
		For(tc.n, tc.workers, func(i int) {
			atomic.AddInt32(&hits[i], 1)
			calls.Add(1)
		})
		if int(calls.Load()) != tc.n {
			t.Errorf("n=%d workers=%d: %d calls", tc.n, tc.workers, calls.Load())
		}
		for i, h := range hits {
			if h != 1 {
				t.Errorf("n=%d workers=%d: index %d called %d times", tc.n, tc.workers, i, h)
			}
		}
	}
}
