package images

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// LoadAll decodes paths with Load in parallel (runtime.NumCPU() goroutines)
// and returns the images in the order of paths.
//
// An image smaller than minSize pixels in either dimension is an error
// wrapping ErrTooSmall that names the file and its size (minSize <= 0
// accepts any size). Without skipBad the first failing path (in the order
// of paths) fails the whole call and no images are returned. With skipBad,
// unreadable, corrupt and too-small files are left out and their errors
// (each a *FileError) returned as skipped, in the order of paths; the
// images returned are then the remaining ones, in order.
func LoadAll(paths []string, skipBad bool, minSize int) (imgs []*Image, skipped []error, err error) {
	out := make([]*Image, len(paths))
	errs := make([]error, len(paths))
	var next atomic.Int64
	// firstBad is the lowest failed index so far; workers stop taking new
	// paths past it when not skipping. Paths are taken in increasing order,
	// so every path before a failure is still decoded and the error
	// reported is deterministic.
	var firstBad atomic.Int64
	firstBad.Store(int64(len(paths)))
	workers := min(runtime.NumCPU(), len(paths))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(paths)) || (!skipBad && i > firstBad.Load()) {
					return
				}
				m, err := load(paths[i], minSize)
				if err != nil {
					errs[i] = err
					for {
						cur := firstBad.Load()
						if i >= cur || firstBad.CompareAndSwap(cur, i) {
							break
						}
					}
					continue
				}
				out[i] = m
			}
		}()
	}
	wg.Wait()
	imgs = out[:0]
	for i := range paths {
		if errs[i] != nil {
			if !skipBad {
				return nil, nil, errs[i]
			}
			skipped = append(skipped, errs[i])
			continue
		}
		imgs = append(imgs, out[i])
	}
	return imgs, skipped, nil
}
