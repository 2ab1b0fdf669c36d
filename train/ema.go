package train

import (
	"fmt"
	"io"
	"math"

	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// average is train --ema's exponential moving average of the weights,
// kept beside the trained ones: after optimizer step n,
//
//	ema ← d·ema + (1−d)·w,  d = min(decay, (1+n)/(10+n)),
//
// starting from the initial weights (TensorFlow's ExponentialMovingAverage
// with num_updates, so that a short run's average is not dominated by the
// initialization: d is 0.1 after step 0, 0.5 after step 8, and reaches
// 0.999 after step 8,991). Checkpoints hold it under model.EMAKey with the
// trained weights' keys; a resumed run continues it exactly. Synthesis,
// export and restore train --ludvae take it when present (model.LoadWeights).
type average struct {
	decay float64
	m     *model.LUDVAE
}

// emaDecay is the decay of the update after optimizer step n.
func emaDecay(decay float64, n int) float64 {
	return math.Min(decay, float64(1+n)/float64(10+n))
}

// newAverage starts an average at m's weights.
func newAverage(m *model.LUDVAE, decay float64) (*average, error) {
	a, err := model.New(m.Config, m.Options(), 0)
	if err != nil {
		return nil, err
	}
	if err := a.LoadStateDict(m.StateDict()); err != nil {
		a.Close()
		return nil, err
	}
	return &average{decay: decay, m: a}, nil
}

// update folds m's weights after optimizer step n into the average.
func (a *average) update(m *model.LUDVAE, n int) error {
	d := emaDecay(a.decay, n)
	ws, es := m.Tensors(), a.m.Tensors()
	return tb.Try(func() {
		tb.NoGrad(func() {
			for i, w := range ws {
				next := es[i].MulScalar(d)
				part := w.MulScalar(1 - d)
				next.AddInPlace(part)
				es[i].CopyFrom(next)
				part.Close()
				next.Close()
			}
		})
	})
}

// resume sets the average from a checkpoint's entry, or, for a checkpoint
// without one (a run started without --ema), restarts it at m's resumed
// weights, saying so.
func (a *average) resume(path string, d *tb.Dict, m *model.LUDVAE, step int, log io.Writer) error {
	v, ok := d.Get(model.EMAKey)
	sd, isDict := v.(*tb.Dict)
	if !ok || !isDict {
		fmt.Fprintf(log, "%s holds no weight average: --ema starts it at step %d's weights\n", path, step)
		return a.m.LoadStateDict(m.StateDict())
	}
	if err := a.m.LoadStateDict(sd); err != nil {
		return fmt.Errorf("%s: %q: %w", path, model.EMAKey, err)
	}
	return nil
}

// Close frees the average's weights.
func (a *average) Close() {
	if a != nil {
		a.m.Close()
	}
}
