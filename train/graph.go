package train

import (
	"fmt"
	"io"
	"math"

	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// graphWarmup is how many steps of each graph run op by op, on the graph's
// stream, before it is recorded: cuDNN searches its algorithms for new
// shapes and the allocator grows, neither of which a recording allows.
const graphWarmup = 2

// graphStepper takes training steps on CUDA as CUDA graphs. A step of the
// default model is hundreds of small kernels whose launches, not their
// work, set its time; a graph launches them all at once. The degradation
// branch runs on the batch's degraded crops only, so each count of them has
// its own shapes and its own graph, recorded on its third step. Everything
// a step takes from the host is written into tensors the graphs read: the
// crops, the h-noise levels, the degraded rows, the colour map, the noise
// stream (model.Noise.StreamAdd), the KL weight, and Adam's learning rate
// and step number (Adam.FusedStep, which also skips a non-finite step on
// the device). The step's numbers are those of step() but for Adam's
// float rounding: FusedStep runs torch 2's operations.
type graphStepper struct {
	m     *model.LUDVAE
	opt   *tb.Adam
	cfg   *Config
	rt    *tb.Runtime
	steps float64 // Adam steps taken
	in    graphInputs
	slots map[int64]*graphSlot // by count of degraded crops
	// record is false on the CPU and in tests: every step then runs the
	// graph's work op by op, the same operations.
	record bool
}

// graphInputs are the tensors through which a step gets its batch.
type graphInputs struct {
	x, sig, rowMap *tb.Tensor // crops [N,3,P,P], h-noise σ [N], colour map [3,N,3,1,1] (or nil)
	streamAdd      *tb.Tensor // int64 [1]: 16·step, the step's noise stream
	klWeight       *tb.Tensor // float32 []
	adam           *tb.Tensor // float64 [2]: learning rate, step number
}

// graphSlot is the graph of one count of degraded crops.
type graphSlot struct {
	g      *tb.CUDAGraph
	sub    model.Subset
	runs   int
	losses *tb.Tensor // its output: total, rec and kl, read in one copy
}

func newGraphStepper(rt *tb.Runtime, m *model.LUDVAE, opt *tb.Adam, cfg *Config, norm bool, record bool) (*graphStepper, error) {
	steps, err := opt.PrepareFused()
	if err != nil {
		return nil, err
	}
	dev := rt.Device()
	s := &graphStepper{m: m, opt: opt, cfg: cfg, rt: rt, steps: steps, slots: map[int64]*graphSlot{}, record: record}
	n, p := int64(cfg.Batch), int64(cfg.Patch)
	err = tb.Try(func() {
		f32 := tb.Options{DType: tb.Float32, Device: dev}
		s.in.x = tb.Zeros([]int64{n, 3, p, p}, f32).Persist()
		s.in.sig = tb.Zeros([]int64{n}, f32).Persist()
		if norm {
			s.in.rowMap = tb.Zeros([]int64{3, n, 3, 1, 1}, f32).Persist()
		}
		s.in.streamAdd = tb.Zeros([]int64{1}, tb.Options{DType: tb.Int64, Device: dev}).Persist()
		s.in.klWeight = tb.Zeros(nil, f32).Persist()
		s.in.adam = tb.Zeros([]int64{2}, tb.Options{DType: tb.Float64, Device: dev}).Persist()
	})
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *graphStepper) step(b Batch) (st stepStats, err error) {
	st = stepStats{step: b.Step, klWeight: s.cfg.KLWeightAt(b.Step), lr: s.cfg.LearningRate(b.Step)}
	s.opt.Config.LR = st.lr // for the checkpoint's state dict; the graphs read s.in.adam
	err = tb.Do(func() error {
		var slot *graphSlot
		var err error
		tb.WithScope(func(*tb.Scope) {
			h := onHost(s.cfg, b)
			if slot, err = s.slot(h.sub.N, h.sub.Count); err == nil {
				s.write(h, st, slot)
			}
		})
		if err != nil {
			return err
		}
		if err := s.run(slot); err != nil {
			return fmt.Errorf("%w (--cuda-graphs=false takes the steps op by op)", err)
		}
		v := slot.losses.Float64s()
		st.total, st.rec, st.kl = v[0], v[1], v[2]
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("step %d: %w", b.Step, err)
	}
	st.finite = !math.IsNaN(st.total) && !math.IsInf(st.total, 0)
	if st.finite { // FusedStep skipped the update of a non-finite step
		s.steps++
		s.opt.SetSteps(s.steps)
	}
	return st, nil
}

// slot returns the graph of batches of n crops, c of them degraded.
func (s *graphStepper) slot(n, c int64) (*graphSlot, error) {
	if sl := s.slots[c]; sl != nil {
		return sl, nil
	}
	sl := &graphSlot{sub: model.Subset{N: n, Count: c}}
	if c > 0 && c < n {
		sl.sub.Idx = tb.Zeros([]int64{c}, tb.Options{DType: tb.Int64, Device: s.rt.Device()}).Persist()
	}
	if s.record {
		g, err := tb.NewCUDAGraph(s.rt.Device())
		if err != nil {
			sl.sub.Idx.Close()
			return nil, err
		}
		sl.g = g
	}
	s.slots[c] = sl
	return sl, nil
}

// write puts the batch (onHost) into the inputs of its step.
func (s *graphStepper) write(h stepTensors, st stepStats, slot *graphSlot) {
	s.in.x.CopyFrom(h.x)
	s.in.sig.CopyFrom(h.sig)
	if s.in.rowMap != nil {
		s.in.rowMap.CopyFrom(h.rowMap)
	}
	if slot.sub.Idx != nil {
		slot.sub.Idx.CopyFrom(h.sub.Idx)
	}
	s.in.streamAdd.CopyFrom(tb.FromSlice([]int64{int64(h.noise.Stream) * model.StreamStride}))
	s.in.klWeight.CopyFrom(tb.Scalar(float32(st.klWeight)))
	s.in.adam.CopyFrom(tb.FromSlice([]float64{st.lr, s.steps + 1}))
}

// run takes the step: op by op while warming up (or when not recording),
// then by recording once and replaying.
func (s *graphStepper) run(slot *graphSlot) error {
	work := func() error { return s.work(slot) }
	var err error
	switch {
	case !s.record:
		err = tb.Do(work)
	case slot.runs < graphWarmup:
		err = slot.g.Warm(work)
	case slot.runs == graphWarmup:
		if err = slot.g.Capture(work); err == nil {
			err = slot.g.Replay()
		}
	default:
		err = slot.g.Replay()
	}
	slot.runs++
	return err
}

// work is the step on the device, all from the inputs: the forward pass
// (stepTensors.loss), backward, and Adam.
func (s *graphStepper) work(slot *graphSlot) (err error) {
	tb.WithScope(func(*tb.Scope) {
		in := stepTensors{x: s.in.x, sig: s.in.sig, rowMap: s.in.rowMap, sub: slot.sub,
			noise: model.Noise{Seed: s.cfg.Seed, StreamAdd: s.in.streamAdd}}
		var l model.Losses
		if l, err = in.loss(s.rt, s.m); err != nil {
			return
		}
		total := l.Rec.Add(l.KL.Mul(s.in.klWeight))
		total.Backward()
		s.opt.FusedStep(s.in.adam, total)
		slot.losses.Close()
		slot.losses = tb.Stack([]*tb.Tensor{total.Detach(), l.Rec.Detach(), l.KL.Detach()}, 0).Persist()
	})
	return err
}

// close frees the graphs and inputs, after the device has finished with
// them, and drops the gradients the graphs wrote into.
func (s *graphStepper) close() {
	if s.record {
		tb.Synchronize(s.rt.Device())
	}
	for _, sl := range s.slots {
		closeTensors(sl.losses, sl.sub.Idx)
		sl.g.Close()
	}
	s.slots = nil
	closeTensors(s.in.x, s.in.sig, s.in.rowMap, s.in.streamAdd, s.in.klWeight, s.in.adam)
	s.opt.ZeroGrad()
}

func closeTensors(ts ...*tb.Tensor) {
	for _, t := range ts {
		t.Close()
	}
}

// noiseLevels is the h-noise σ of each crop: σx for clean, σy for degraded.
func noiseLevels(cfg *Config, degraded []bool) []float32 {
	sig := make([]float32, len(degraded))
	for i, d := range degraded {
		sig[i] = float32(cfg.SigmaX)
		if d {
			sig[i] = float32(cfg.SigmaY)
		}
	}
	return sig
}

// stepper takes the trainer's steps.
type stepper interface {
	step(b Batch) (stepStats, error)
	close()
}

// Stepper takes training steps as `ludvae train` does: as CUDA graphs on
// CUDA when cfg.CUDAGraphs, op by op otherwise. `ludvae bench train` times it.
type Stepper struct {
	rt *tb.Runtime
	s  stepper
}

// NewStepper prepares the steps of m and opt under cfg (batch size, crop
// size, noise levels, schedules) on rt (device and precision), for batches
// without a colour map. A note goes to log if CUDA graphs were asked for
// but cannot be used.
func NewStepper(rt *tb.Runtime, m *model.LUDVAE, opt *tb.Adam, cfg *Config, log io.Writer) (s *Stepper, err error) {
	err = rt.Do(func() error {
		s = &Stepper{rt, newStepper(rt, m, opt, cfg, false, log, nil)}
		return nil
	})
	return s, err
}

// Step takes the step of b on the runtime and returns its total loss; a
// non-finite loss leaves the parameters as they were.
func (s *Stepper) Step(b Batch) (loss float64, err error) {
	err = s.rt.Do(func() error {
		st, err := s.s.step(b)
		loss = st.total
		return err
	})
	return loss, err
}

// Graphs reports whether the steps run as CUDA graphs.
func (s *Stepper) Graphs() bool {
	_, ok := s.s.(*graphStepper)
	return ok
}

// Close frees what the steps kept (the graphs and their inputs).
func (s *Stepper) Close() { s.s.close() }

// eagerStepper takes each step op by op (step), through gate (nil: none).
type eagerStepper struct {
	rt   *tb.Runtime
	m    *model.LUDVAE
	opt  *tb.Adam
	cfg  *Config
	gate *run.StepGate
}

func (e eagerStepper) step(b Batch) (stepStats, error) {
	return step(e.rt, e.m, e.opt, e.cfg, b, e.gate)
}
func (eagerStepper) close() {}

// newStepper picks CUDA graphs when the configuration asks for them and the
// device is CUDA; if they cannot be set up it says so on log and steps op
// by op.
func newStepper(rt *tb.Runtime, m *model.LUDVAE, opt *tb.Adam, cfg *Config, norm bool, log io.Writer, gate *run.StepGate) stepper {
	eager := eagerStepper{rt, m, opt, cfg, gate}
	if !cfg.CUDAGraphs || !rt.Device().IsCUDA() {
		return eager
	}
	g, err := newGraphStepper(rt, m, opt, cfg, norm, true)
	if err != nil {
		fmt.Fprintf(log, "CUDA graphs are off: %v\n", err)
		return eager
	}
	return g
}
