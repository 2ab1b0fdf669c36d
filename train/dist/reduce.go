package dist

import (
	"fmt"

	tb "github.com/ludvae/ludvae/torchbind"
)

// BucketBytes is the default gradient bucket: DistributedDataParallel's 25 MiB.
const BucketBytes = 25 << 20

// AllReduceFlat sums ts in place over the ranks, in buckets of at most
// bucketBytes (a larger tensor is a bucket of its own): each bucket's
// tensors are flattened into one buffer, the buffer is all-reduced in one
// call, and the sums are copied back. One call per bucket instead of one per
// tensor is what makes it cheap: the model has ~50 tensors, most of them
// small. Every rank must pass tensors of the same shapes in the same order.
func (g *Group) AllReduceFlat(ts []*tb.Tensor, bucketBytes int64) error {
	for lo := 0; lo < len(ts); {
		hi, size := lo, int64(0)
		for hi < len(ts) && (hi == lo || size+bytes(ts[hi]) <= bucketBytes) {
			size += bytes(ts[hi])
			hi++
		}
		if err := g.reduceBucket(ts[lo:hi]); err != nil {
			return fmt.Errorf("all-reduce of tensors %d-%d of %d (%d bytes): %w", lo, hi-1, len(ts), size, err)
		}
		lo = hi
	}
	return nil
}

func bytes(t *tb.Tensor) int64 { return t.Numel() * int64(t.DType().Size()) }

// reduceBucket all-reduces ts through one flat buffer; its temporaries go
// with its scope (scopes stack per OS thread, so ranks that are goroutines
// of one process, in tests, keep to their own).
func (g *Group) reduceBucket(ts []*tb.Tensor) (err error) {
	tb.WithScope(func(*tb.Scope) {
		err = tb.Do(func() error {
			flat := make([]*tb.Tensor, len(ts))
			for i, t := range ts {
				flat[i] = t.Reshape(-1)
			}
			buf := tb.Cat(flat, 0)
			if err := g.PG.AllReduceSum(buf); err != nil {
				return err
			}
			tb.NoGrad(func() {
				var at int64
				for _, t := range ts {
					n := t.Numel()
					t.CopyFrom(buf.Narrow(0, at, n).Reshape(t.Shape()...))
					at += n
				}
			})
			return nil
		})
	})
	return err
}
