package synth

import (
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// Margin is the receptive-field radius of a network: every 3×3 convolution
// of the image encoder and the decoder (4 per block, 2 blocks per level)
// widens it by one pixel; the 1×1 convolutions add nothing. A tile computed
// with this much context on each side is exact in its core.
func Margin(levels int) int { return 8 * levels }

// Generator maps a batch of images [N,3,H,W] to outputs of the same size;
// noise.Origin tells it where the batch sits in the whole image.
type Generator func(x *tb.Tensor, noise model.Noise) (*tb.Tensor, error)

// Tiled runs gen over x tile by tile: cores of tile×tile pixels, each
// computed from the core plus margin pixels of context on every side (less at
// the image border) and pasted into the output. With counter-based noise each
// tile draws exactly the ε the whole image would draw there, so the result
// equals the whole-image result up to floating-point rounding. tile <= 0 runs
// the whole image at once.
func Tiled(x *tb.Tensor, tile, margin int, noise model.Noise, gen Generator) (out *tb.Tensor, err error) {
	s := x.Shape()
	h, w := int(s[2]), int(s[3])
	if tile <= 0 || (tile >= h && tile >= w) {
		return gen(x, noise)
	}
	err = tb.Do(func() error {
		out = tb.ZerosLike(x)
		for y0 := 0; y0 < h; y0 += tile {
			for x0 := 0; x0 < w; x0 += tile {
				var err error
				tb.WithScope(func(*tb.Scope) {
					th, tw := min(tile, h-y0), min(tile, w-x0)
					ey0, ex0 := max(y0-margin, 0), max(x0-margin, 0)
					ey1, ex1 := min(y0+th+margin, h), min(x0+tw+margin, w)
					in := x.Narrow(2, int64(ey0), int64(ey1-ey0)).Narrow(3, int64(ex0), int64(ex1-ex0)).Contiguous()
					n := noise
					n.Origin[2] += int64(ey0)
					n.Origin[3] += int64(ex0)
					var y *tb.Tensor
					if y, err = gen(in, n); err != nil {
						return
					}
					core := y.Narrow(2, int64(y0-ey0), int64(th)).Narrow(3, int64(x0-ex0), int64(tw))
					out.Narrow(2, int64(y0), int64(th)).Narrow(3, int64(x0), int64(tw)).CopyFrom(core)
				})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// MinTile is the smallest useful tile for a network of that many levels:
// its margin. A tile's input is the core plus a margin on every side, so at
// this size an inner tile already computes 9 times the pixels it keeps, and
// below it the margins dominate (a 1-pixel tile computes (1+2·margin)²
// pixels per pixel: 33 s for a 64×64 image at 3 levels instead of a
// fraction of a second).
func MinTile(levels int) int { return Margin(levels) }

// window is one tile of TiledBatch: its core (y0, x0, th × tw) and the
// top-left corner (wy, wx) of the input window that holds it.
type window struct{ y0, x0, th, tw, wy, wx int }

// split cuts n pixels into k = ⌈n/tile⌉ cores of c = ⌈n/k⌉ pixels (the
// last one shorter when k does not divide n) and returns the cores'
// starts, c, and the window side s = min(c+2·margin, n).
func split(n, tile, margin int) (starts []int, c, s int) {
	k := (n + tile - 1) / tile
	c = (n + k - 1) / k
	for y := 0; y < n; y += c {
		starts = append(starts, y)
	}
	return starts, c, min(c+2*margin, n)
}

// windows are the tiles TiledBatch runs for an h × w image: the image cut
// evenly into cores of at most tile pixels a side, and each core's input
// a window of one size for all, sh × sw, placed to hold the core and
// margin pixels of context on each side (at the image border, more on the
// inner side instead), so that the windows stack into a batch.
func windows(h, w, tile, margin int) (ws []window, sh, sw int) {
	ys, ch, sh := split(h, tile, margin)
	xs, cw, sw := split(w, tile, margin)
	for _, y0 := range ys {
		for _, x0 := range xs {
			ws = append(ws, window{y0: y0, x0: x0, th: min(ch, h-y0), tw: min(cw, w-x0),
				wy: min(max(y0-margin, 0), h-sh), wx: min(max(x0-margin, 0), w-sw)})
		}
	}
	return ws, sh, sw
}

// TiledBatch is Tiled with up to batch tiles of the image x [1,3,H,W]
// through gen at once (windows: equal windows, so that they stack). Each
// row of a batch draws the noise its window draws alone (model.Noise.Rows:
// the same counter-based ε as the whole image there), and every core has
// its full context, so the result equals Tiled's and the whole image's up
// to float32 rounding. Peak memory is that of gen on batch windows:
// BatchBytes. batch <= 1 is Tiled.
func TiledBatch(x *tb.Tensor, tile, margin, batch int, noise model.Noise, gen Generator) (out *tb.Tensor, err error) {
	s := x.Shape()
	h, w := int(s[2]), int(s[3])
	if batch <= 1 || tile <= 0 || (tile >= h && tile >= w) || s[0] != 1 {
		return Tiled(x, tile, margin, noise, gen)
	}
	ws, sh, sw := windows(h, w, tile, margin)
	err = tb.Do(func() error {
		out = tb.ZerosLike(x)
		for i := 0; i < len(ws); i += batch {
			group := ws[i:min(i+batch, len(ws))]
			var err error
			tb.WithScope(func(*tb.Scope) {
				ins := make([]*tb.Tensor, len(group))
				n := noise
				n.Rows = make([]model.Noise, len(group))
				for j, t := range group {
					ins[j] = x.Narrow(2, int64(t.wy), int64(sh)).Narrow(3, int64(t.wx), int64(sw))
					r := noise
					r.Origin[2] += int64(t.wy)
					r.Origin[3] += int64(t.wx)
					n.Rows[j] = r
				}
				var y *tb.Tensor
				if y, err = gen(tb.Cat(ins, 0), n); err != nil {
					return
				}
				for j, t := range group {
					core := y.Narrow(0, int64(j), 1).Narrow(2, int64(t.y0-t.wy), int64(t.th)).Narrow(3, int64(t.x0-t.wx), int64(t.tw))
					out.Narrow(2, int64(t.y0), int64(t.th)).Narrow(3, int64(t.x0), int64(t.tw)).CopyFrom(core)
				}
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
