package job

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestForEachEveryIndexOnce: every index runs exactly once, and no two
// calls with the same worker number overlap (each worker's counter of
// calls in flight never exceeds 1).
func TestForEachEveryIndexOnce(t *testing.T) {
	const n, workers = 1000, 7
	var runs [n]atomic.Int32
	var busy [workers]atomic.Int32
	err := ForEach(n, workers, func(w, i int) error {
		if busy[w].Add(1) != 1 {
			return fmt.Errorf("worker %d runs two calls at once", w)
		}
		runs[i].Add(1)
		busy[w].Add(-1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range runs {
		if runs[i].Load() != 1 {
			t.Fatalf("index %d ran %d times", i, runs[i].Load())
		}
	}
	if err := ForEach(0, 4, func(int, int) error { return errors.New("called") }); err != nil {
		t.Fatalf("no indices: %v", err)
	}
}

// TestForEachLowestError: with indices 300 and 600 failing, the error is
// always index 300's, however the workers are scheduled (50 runs), and
// every index below it ran.
func TestForEachLowestError(t *testing.T) {
	for range 50 {
		var below atomic.Int32
		err := ForEach(1000, 4, func(_, i int) error {
			switch {
			case i == 300 || i == 600:
				return fmt.Errorf("index %d", i)
			case i < 300:
				below.Add(1)
			}
			return nil
		})
		if err == nil || err.Error() != "index 300" || below.Load() != 300 {
			t.Fatalf("got %v with %d indices below 300 run", err, below.Load())
		}
	}
}

// TestWorkers: a positive thread setting is the worker count; 0 (and a
// negative one) is one per CPU.
func TestWorkers(t *testing.T) {
	for in, want := range map[int]int{3: 3, 1: 1, 0: runtime.NumCPU(), -1: runtime.NumCPU()} {
		if got := Workers(in); got != want {
			t.Errorf("Workers(%d) = %d, want %d", in, got, want)
		}
	}
}
