package job

import (
	"sync"
	"sync/atomic"
)

// ForEach calls fn(worker, i) for i in [0, n) on up to workers goroutines
// numbered 0..workers−1 (calls with the same worker number never overlap,
// so a worker's scratch memory can be indexed by it), taking indices in
// increasing order, and returns the error of the lowest failing index (no
// new index starts after a failure). Since indices start in order, every
// index below the lowest failing one has run: the error returned does not
// depend on scheduling. It is the one parallel loop over indices of the
// tree.
func ForEach(n, workers int, fn func(worker, i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if errs[i] = fn(w, i); errs[i] != nil {
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
