package synth

import (
	"context"
	"fmt"
	"io"

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
	want, err := layout.ParseDense("--layout", o.Layout)
	if err != nil {
		return layout.Choice{}, err
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
	img := layout.TimingImage(side, 3)
	t := *o
	t.Tile, t.Norm = 0, nil // one tile's work, once
	rec := Record{Sigma: 50, Temperature: 1, Seed: 1}
	prepare := func(l layout.Layout) (func(), error) { return nil, m.ToLayout(l) }
	run := func(layout.Layout) error {
		_, err := t.Translate(ctx, rt, m, img, rec)
		return err
	}
	c, err := layout.ChooseOn(rt.Device(), want, key, layout.Options{Prepare: prepare, Iters: 1}, run, fmt.Sprintf("one %d² tile", side), "", log)
	if err != nil {
		return layout.Choice{}, err
	}
	return c, m.ToLayout(c.Layout)
}
