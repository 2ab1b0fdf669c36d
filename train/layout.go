package train

import (
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/ludvae/ludvae/internal/layout"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// ChooseLayout is the layout the trainer's network runs in, for --layout
// want (cfg.Layout): forced by nchw, nhwc or blocked; for auto on CUDA
// channels-last (tensor cores take it; NCHW took 18 % longer per step on an
// H200) with cuDNN's benchmark mode choosing the algorithms within it; on
// the CPU the fastest for this model and batch of NCHW, NHWC and, where it
// can run (BlockedUnavailable), oneDNN's blocked layout, timed on a
// throwaway copy of the network (model.New, a fresh Adam and the trainer's
// own step on random crops, half of them degraded) or read from the layout
// cache, so the run's own model, optimizer and noise never see the timing.
// It logs the choice and the timings.
func ChooseLayout(rt *tb.Runtime, cfg *Config, want layout.Layout, log io.Writer) (layout.Choice, error) {
	prec, err := tb.ParsePrecision(cfg.Precision)
	if err != nil {
		return layout.Choice{}, err
	}
	cands := layout.Dense
	why := BlockedUnavailable(rt.Device(), prec)
	if why == "" {
		cands = append(cands[:len(cands):len(cands)], layout.Blocked)
	} else if want == layout.Blocked {
		return layout.Choice{}, fmt.Errorf("--layout blocked: %s", why)
	}
	mc := model.Config{Channels: 3, Filters: cfg.Filters, Levels: cfg.Levels}
	key := model.LayoutKey("train", model.ShapeKey(mc, cfg.Batch, cfg.Patch, cfg.Patch), prec)
	var st *Stepper
	prepare := func(l layout.Layout) (func(), error) {
		m, err := model.New(mc, tb.Options{DType: tb.Float32, Device: rt.Device()}, 1)
		if err != nil {
			return nil, err
		}
		if err := m.ToLayout(l); err != nil {
			m.Close()
			return nil, err
		}
		opt := tb.NewAdam(m.Tensors(), tb.DefaultAdam)
		c := *cfg
		c.CUDAGraphs = false
		if st, err = NewStepper(rt, m, opt, &c, io.Discard); err != nil {
			opt.Close()
			m.Close()
			return nil, err
		}
		return func() { st.Close(); opt.Close(); m.Close() }, nil
	}
	rng := rand.New(rand.NewPCG(1, 2)) // crops for the timing only
	n, p := cfg.Batch, cfg.Patch
	b := Batch{Step: 1, Patch: p, Pix: make([]float32, n*3*p*p), Degraded: make([]bool, n)}
	for i := range b.Degraded {
		b.Degraded[i] = i%2 == 0
	}
	run := func(layout.Layout) error {
		for j := range b.Pix {
			b.Pix[j] = rng.Float32()
		}
		_, err := st.Step(b)
		return err
	}
	return layout.ChooseOn(rt.Device(), want, key, layout.Options{Candidates: cands, Prepare: prepare}, run,
		fmt.Sprintf("training step of batch %d × %d²", n, p), "cuDNN's benchmark mode picks the algorithms", log)
}

// BlockedUnavailable says why the blocked layout cannot train on dev in
// prec in this process, or "" when it can: it is oneDNN's, so CPU only,
// float32 only (libtorch's blocked tensors have no autocast), and only
// where the shim's load check left oneDNN on.
func BlockedUnavailable(dev tb.Device, prec tb.Precision) string {
	switch {
	case dev.IsCUDA():
		return "oneDNN's blocked layout is for the CPU; on CUDA use auto, nchw or nhwc"
	case prec != tb.FP32:
		return fmt.Sprintf("it runs float32 only, not --precision %s", prec)
	case !tb.OneDNN():
		return "oneDNN is off in this process (this libtorch's float32 convolution gradients failed the load check, or it has no oneDNN)"
	}
	return ""
}
