package train

import (
	"fmt"
	"math"

	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// stepStats are one step's logged numbers.
type stepStats struct {
	step                         int
	total, rec, kl, klWeight, lr float64
	finite                       bool
}

// step is one training step op by op on rt's thread: the batch's tensors
// uploaded, the forward pass (stepTensors.loss), backward, and Adam at the
// learning rate of step b.Step. A non-finite loss leaves the parameters as
// they were. Until gate.Update (nil: none) it writes only the gradients,
// so that a signal may abandon it (run.StepGate).
func step(rt *tb.Runtime, m *model.LUDVAE, opt *tb.Adam, cfg *Config, b Batch, gate *run.StepGate) (st stepStats, err error) {
	st = stepStats{step: b.Step, klWeight: cfg.KLWeightAt(b.Step), lr: cfg.LearningRate(b.Step)}
	tb.WithScope(func(*tb.Scope) {
		err = tb.Do(func() error {
			l, err := upload(cfg, m.Options(), b).loss(rt, m)
			if err != nil {
				return err
			}
			total := l.Total(st.klWeight)
			opt.ZeroGrad()
			// Backward is queued before the losses are read: on a GPU the
			// read waits for the device, which then has the whole step.
			total.Backward()
			st.total, st.rec, st.kl = total.Item(), l.Rec.Item(), l.KL.Item()
			// Below, the parameters, Adam's state and (in trainStep) the
			// weight average change: a signal waits for them.
			gate.Update()
			st.finite = !math.IsNaN(st.total) && !math.IsInf(st.total, 0)
			if !st.finite {
				opt.ZeroGrad()
				return nil
			}
			if err := m.FillMissingGrads(); err != nil {
				return err
			}
			opt.Config.LR = st.lr
			// The gradients stay until the next step's ZeroGrad: releasing
			// them here made the next step 5 % slower (their blocks went to
			// activations, and backward had to map new ones).
			opt.Step()
			return nil
		})
	})
	if err != nil {
		return st, fmt.Errorf("step %d: %w", b.Step, err)
	}
	return st, nil
}

// stepTensors are a batch on the device: the crops x, each crop's h-noise σ
// (σx for clean, σy for degraded), the colour map of the degraded rows
// (RowMap's values, or nil), the degraded rows and the step's noise.
type stepTensors struct {
	x, sig, rowMap *tb.Tensor
	sub            model.Subset
	noise          model.Noise
}

// onHost is a batch as CPU tensors (the colour map's values in float64),
// with the noise of its step: what upload and the graph stepper's write
// put on the device.
func onHost(cfg *Config, b Batch) stepTensors {
	shape := b.Shape()
	n := shape[0]
	in := stepTensors{
		x:     tb.FromSlice(b.Pix, shape...),
		sig:   tb.FromSlice(noiseLevels(cfg, b.Degraded)),
		sub:   model.NewSubset(b.Degraded, tb.CPU),
		noise: model.Noise{Seed: cfg.Seed, Stream: uint64(b.Step)},
	}
	if b.Norm != nil {
		in.rowMap = tb.FromSlice(b.Norm.RowMap(b.Degraded), 3, n, 3, 1, 1)
	}
	return in
}

// upload puts a batch on the device for a step op by op, its pixels and
// colour map in the model's dtype o.DType (float32 in training; float64
// lets the tests follow the eager reference step by step).
func upload(cfg *Config, o tb.Options, b Batch) stepTensors {
	in := onHost(cfg, b)
	in.x, in.sig = in.x.To(o.DType, o.Device), in.sig.ToDevice(o.Device)
	if in.sub.Idx != nil {
		in.sub.Idx = in.sub.Idx.ToDevice(o.Device)
	}
	if in.rowMap != nil {
		in.rowMap = in.rowMap.To(o.DType, o.Device)
	}
	return in
}

// inputs are what the model takes: x and h(x) = x + σ·ε; with a colour
// map, the degraded rows of both mapped to the clean statistics after the
// noise, clamped, as the authors' data loader does.
func (in stepTensors) inputs(m *model.LUDVAE) (x, h *tb.Tensor, err error) {
	x = in.x
	if h, err = m.Preprocess(x, in.sig, in.noise); err != nil {
		return nil, nil, err
	}
	if in.rowMap != nil {
		xh := model.ApplyRowMap(in.rowMap, x, h)
		x, h = xh[0], xh[1]
	}
	return x, h, nil
}

// loss is a step's forward pass: the model's losses on its inputs in rt's
// precision.
func (in stepTensors) loss(rt *tb.Runtime, m *model.LUDVAE) (l model.Losses, err error) {
	x, h, err := in.inputs(m)
	if err != nil {
		return l, err
	}
	rt.Autocast(func() {
		l, err = m.LossOn(x, h, in.sub, in.noise)
	})
	return l, err
}
