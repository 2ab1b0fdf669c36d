package job

import "context"

// Ahead computes produce(first) … produce(last) on goroutines, at most
// prefetch of them in flight, and delivers the results in order on the
// returned channel, which is closed at the end. Cancelling ctx stops it.
// Training uses it for batches, synthesis for decoded images.
func Ahead[T any](ctx context.Context, first, last, prefetch int, produce func(i int) T) <-chan T {
	futures := make(chan chan T, prefetch)
	go func() {
		defer close(futures)
		for i := first; i <= last; i++ {
			f := make(chan T, 1)
			select {
			case futures <- f:
			case <-ctx.Done():
				return
			}
			go func() { f <- produce(i) }()
		}
	}()
	out := make(chan T)
	go func() {
		defer close(out)
		for f := range futures {
			select {
			case out <- <-f:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
