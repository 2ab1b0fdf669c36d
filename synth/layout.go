package synth

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/layout"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// wholeImageSide is the image side a synthesis with --tile 0 is timed on.
const wholeImageSide = 512

// ChooseLayout stores m's weights in the layout --layout asks for: nchw or
// nhwc as given; for auto on CUDA channels-last (no cuDNN benchmark mode in
// synthesis: its pick can change from run to run, and with it the last bit
// of some pixels); on the CPU the faster of the two for this model and
// tile, timed with Translate itself on a random image of one tile with its
// margins (--tile 0: a 512² image), or read from the layout cache. The
// timing draws noise of its own stream and changes nothing in m but the
// weights' memory order; it logs the choice and both timings.
//
// side, when positive, is the side of the square image timed instead (the
// benchmark's image size).
func (o *Options) ChooseLayout(ctx context.Context, rt *tb.Runtime, m *model.LUDVAE, side int, log io.Writer) (layout.Choice, error) {
	want, err := layout.Parse("--layout", o.Layout)
	if err != nil {
		return layout.Choice{}, err
	}
	if want == layout.Auto && rt.Device().IsCUDA() {
		fmt.Fprintln(log, "layout nhwc (CUDA: channels-last)")
		return layout.Choice{Layout: layout.NHWC}, m.ToLayout(layout.NHWC)
	}
	prec, err := tb.ParsePrecision(o.Precision)
	if err != nil {
		return layout.Choice{}, err
	}
	switch {
	case side > 0:
	case o.Tile > 0:
		side = o.Tile + 2*Margin(m.Config.Levels)
	default:
		side = wholeImageSide
	}
	key := model.LayoutKey("synth-"+o.Mode, model.ShapeKey(m.Config, 1, side, side), prec)
	rng := rand.New(rand.NewPCG(3, 4))
	img := &images.Image{W: side, H: side, Pix: make([]float32, 3*side*side)}
	for i := range img.Pix {
		img.Pix[i] = rng.Float32()
	}
	t := *o
	t.Tile, t.Norm = 0, nil // one tile's work, once
	rec := Record{Sigma: 50, Temperature: 1, Seed: 1}
	prepare := func(l layout.Layout) (func(), error) { return nil, m.ToLayout(l) }
	run := func(layout.Layout) error {
		_, err := t.Translate(ctx, rt, m, img, rec)
		return err
	}
	c, err := layout.Choose(want, key, layout.Options{Prepare: prepare, Iters: 1}, run)
	if err != nil {
		return layout.Choice{}, err
	}
	fmt.Fprintf(log, "%s, one %d² tile\n", c, side)
	return c, m.ToLayout(c.Layout)
}
