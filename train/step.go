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

// Step is one training step as `ludvae train` takes it: h-noise, the
// forward pass under cfg.Precision, the loss, backward, and Adam at the
// learning rate of step b.Step. `ludvae bench train` times it. It returns
// the total loss; a non-finite loss leaves the parameters as they were.
func Step(m *model.LUDVAE, opt *tb.Adam, cfg *Config, dev tb.Device, b Batch) (float64, error) {
	st, err := step(m, opt, cfg, dev, b)
	return st.total, err
}

func step(m *model.LUDVAE, opt *tb.Adam, cfg *Config, dev tb.Device, b Batch) (st stepStats, err error) {
	st = stepStats{step: b.Step, klWeight: cfg.KLWeightAt(b.Step), lr: cfg.LearningRate(b.Step)}
	err = tb.Try(func() {
		tb.WithScope(func(*tb.Scope) {
			n, p := int64(cfg.Batch), int64(cfg.Patch)
			x := tb.FromSlice(b.Pix, n, 3, p, p).ToDevice(dev)
			sig := make([]float32, n)
			for i, d := range b.Degraded {
				sig[i] = float32(cfg.SigmaX)
				if d {
					sig[i] = float32(cfg.SigmaY)
				}
			}
			noise := model.Noise{Seed: cfg.Seed, Stream: uint64(b.Step)}
			h, err := m.Preprocess(x, tb.FromSlice(sig).ToDevice(dev), noise)
			if err != nil {
				panic(err)
			}
			if b.Norm != nil {
				x, h = b.Norm.ToCleanRows(x, b.Degraded), b.Norm.ToCleanRows(h, b.Degraded)
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
