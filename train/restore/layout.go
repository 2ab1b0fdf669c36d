package restore

import (
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/ludvae/ludvae/internal/layout"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// chooseLayout returns the layout for --layout want: nchw or nhwc as
// given, channels-last for auto on CUDA, and on the CPU the faster of the
// two for this network and input, timed by run on the network prepare
// makes in each layout, or read from the layout cache. It logs the choice
// and both timings.
func chooseLayout(want string, dev tb.Device, key layout.Key, what string, prepare func(layout.Layout) (func(), error), run layout.Timer, log io.Writer) (layout.Layout, error) {
	w, err := layout.ParseDense("--layout", want)
	if err != nil {
		return "", err
	}
	c, err := layout.ChooseOn(dev, w, key, layout.Options{Prepare: prepare}, run, what, "", log)
	return c.Layout, err
}

// trainLayout times restore train's own step on a throwaway DnCNN of the
// run's size, with its own Adam, on random crops of the run's batch.
func trainLayout(cfg *Config, dev tb.Device, log io.Writer) (layout.Layout, error) {
	n, p := cfg.Batch, cfg.Patch
	shape := fmt.Sprintf("dncnn-f%d-l%d-in%dx%dx%d", cfg.Features, cfg.Layers, n, p, p)
	key := model.LayoutKey("restore-train", shape, tb.FP32)
	kind, _ := model.ParseDnCNNLoss(cfg.Loss)
	var m *model.DnCNN
	var opt *tb.Adam
	prepare := func(l layout.Layout) (func(), error) {
		var err error
		if m, err = model.NewDnCNN(cfg.Net(), tb.Options{DType: tb.Float32, Device: dev}, 1); err != nil {
			return nil, err
		}
		if err := m.ToLayout(l); err != nil {
			m.Close()
			return nil, err
		}
		opt = tb.NewAdam(m.Tensors(), tb.AdamConfig{LR: cfg.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
		return func() { opt.Close(); m.Close() }, nil
	}
	rng := rand.New(rand.NewPCG(5, 6)) // crops for the timing only
	b := Batch{Step: 1, Patch: p, Clean: make([]float32, n*3*p*p), Noisy: make([]float32, n*3*p*p)}
	run := func(layout.Layout) error {
		for i := range b.Clean {
			b.Clean[i], b.Noisy[i] = rng.Float32(), rng.Float32()
		}
		_, err := step(m, opt, cfg, kind, dev, nil, b, nil)
		return err
	}
	return chooseLayout(cfg.Layout, dev, key, fmt.Sprintf("training step of batch %d × %d²", n, p), prepare, run, log)
}

// testLayout times Denoise on m itself (evaluation mode changes nothing)
// over a random image of one tile with its margins (--tile 0: 512²), and
// leaves m in the layout chosen.
func testLayout(m *model.DnCNN, o TestOptions, dev tb.Device, log io.Writer) error {
	side := 512
	if o.Tile > 0 {
		side = o.Tile + 2*m.Config.Layers
	}
	shape := fmt.Sprintf("dncnn-f%d-l%d-in1x%dx%d", m.Config.Features, m.Config.Layers, side, side)
	key := model.LayoutKey("restore-test", shape, tb.FP32)
	img := layout.TimingImage(side, 7)
	prepare := func(l layout.Layout) (func(), error) { return nil, m.ToLayout(l) }
	run := func(layout.Layout) error { _, err := Denoise(m, img, 0); return err }
	l, err := chooseLayout(o.Layout, dev, key, fmt.Sprintf("one %d² tile", side), prepare, run, log)
	if err != nil {
		return err
	}
	return m.ToLayout(l)
}
