package train

import (
	"fmt"
	"math"

	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// stepStats are one step's logged numbers.
type stepStats struct {
	step                         int
	total, rec, kl, klWeight, lr float64
	finite                       bool
}

// step is one training step op by op: h-noise (and the colour map of the
// batch's degraded crops, if b.Norm), the forward pass under
// cfg.Precision, the loss, backward, and Adam at the learning rate of step
// b.Step. A non-finite loss leaves the parameters as they were.
func step(m *model.LUDVAE, opt *tb.Adam, cfg *Config, dev tb.Device, b Batch) (st stepStats, err error) {
	st = stepStats{step: b.Step, klWeight: cfg.KLWeightAt(b.Step), lr: cfg.LearningRate(b.Step)}
	err = tb.Try(func() {
		tb.WithScope(func(*tb.Scope) {
			x, h, noise, err := stepInputs(m, cfg, dev, b)
			if err != nil {
				panic(err)
			}
			var l model.Losses
			tb.WithPrecision(tb.Precision(cfg.Precision), dev, func() {
				if l, err = m.Loss(x, h, b.Degraded, noise); err != nil {
					panic(err)
				}
			})
			total := l.Total(st.klWeight)
			opt.ZeroGrad()
			// Backward is queued before the losses are read: on a GPU the
			// read waits for the device, which then has the whole step.
			total.Backward()
			st.total, st.rec, st.kl = total.Item(), l.Rec.Item(), l.KL.Item()
			st.finite = !math.IsNaN(st.total) && !math.IsInf(st.total, 0)
			if !st.finite {
				opt.ZeroGrad()
				return
			}
			if err := m.FillMissingGrads(); err != nil {
				panic(err)
			}
			opt.Config.LR = st.lr
			// The gradients stay until the next step's ZeroGrad: releasing
			// them here made the next step 5 % slower (their blocks went to
			// activations, and backward had to map new ones).
			opt.Step()
		})
	})
	if err != nil {
		return st, fmt.Errorf("step %d: %w", b.Step, err)
	}
	return st, nil
}

// stepInputs is a batch on the device as the model takes it: x, h(x) =
// x + σ·ε (σx for clean crops, σy for degraded ones) and the step's noise
// key; with colour statistics, the degraded rows of x and h mapped to the
// clean ones after the noise, clamped.
func stepInputs(m *model.LUDVAE, cfg *Config, dev tb.Device, b Batch) (x, h *tb.Tensor, noise model.Noise, err error) {
	n, p := int64(len(b.Degraded)), int64(cfg.Patch)
	x = tb.FromSlice(b.Pix, n, 3, p, p).ToDevice(dev)
	noise = model.Noise{Seed: cfg.Seed, Stream: uint64(b.Step)}
	if h, err = m.Preprocess(x, tb.FromSlice(noiseLevels(cfg, b.Degraded)).ToDevice(dev), noise); err != nil || b.Norm == nil {
		return x, h, noise, err
	}
	err = tb.Try(func() {
		xh := b.Norm.ToCleanRows(b.Degraded, x, h)
		x, h = xh[0], xh[1]
	})
	return x, h, noise, err
}
