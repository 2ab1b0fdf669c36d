package model

import tb "github.com/ludvae/ludvae/torchbind"

// The decoder is a ladder: top level first, each level fuses the image
// features with a latent z_l. The training pass draws z_l from the
// posterior (the authors' decode), generation from the prior
// (decode_uncond), and the TorchScript export writes generation as source;
// all three are one walk over the modules (walk), which differ in what a
// value is (machine) and in where z comes from (a latent function).

// machine is what a walk computes with: tensors (tensorMachine) or
// TorchScript expressions (scriptMachine).
type machine[V any] interface {
	// encode runs the image encoder on h: a_1 … a_L.
	encode(in *Conv2d, blocks []*ConvBlock, h V) []V
	block(b *ConvBlock, x V) V
	proj(p *ProjBlock, a, b V) V
	// output is outconv(dec_1(d)); it releases d.
	output(dec *ConvBlock, out *Conv2d, d V) V
	// release says values are no longer needed.
	release(vs ...V)
}

// latent returns z_l given the decoder's features b at level l (a_L at the
// top level); it may keep b, the walk releases it.
type latent[V any] func(l int, b V) V

// walk runs the network on h(input): the image encoder, the decoder from
// the top level down with z_l = z(l, b_l), and the output convolution.
func walk[V any](m *LUDVAE, mc machine[V], h V, z latent[V]) V {
	a := mc.encode(m.InConv, m.Enc, h)
	L := len(a)
	zl := z(L, a[L-1])
	d := mc.proj(m.Proj[L-1], a[L-1], zl)
	mc.release(zl, a[L-1])
	for l := L - 1; l >= 1; l-- {
		e := mc.block(m.Dec[l], d)
		b := mc.proj(m.ProjC[l-1], e, a[l-1])
		mc.release(d, e, a[l-1])
		zl = z(l, b)
		d = mc.proj(m.Proj[l-1], b, zl)
		mc.release(b, zl)
	}
	return mc.output(m.Dec[0], m.OutConv, d)
}

// tensorMachine computes the walk with libtorch; its output is in dtype dt.
// Handles are closed as soon as they are used (release); autograd keeps
// what the backward needs.
type tensorMachine struct{ dt tb.DType }

// encode runs an input convolution and its blocks, the input convolution
// folded into the first block's first (fold.go).
func (tensorMachine) encode(in *Conv2d, blocks []*ConvBlock, x *tb.Tensor) []*tb.Tensor {
	feats := make([]*tb.Tensor, len(blocks))
	f := blocks[0].after(inFolded(in, blocks[0].Net[0], x), len(blocks[0].Net))
	feats[0] = f
	for l := 1; l < len(blocks); l++ {
		f = blocks[l].Forward(f)
		feats[l] = f
	}
	return feats
}

func (tensorMachine) block(b *ConvBlock, x *tb.Tensor) *tb.Tensor { return b.Forward(x) }

func (tensorMachine) proj(p *ProjBlock, a, b *tb.Tensor) *tb.Tensor { return p.Forward(a, b) }

// output folds outconv into dec_1's last convolution (fold.go).
func (t tensorMachine) output(dec *ConvBlock, out *Conv2d, d *tb.Tensor) *tb.Tensor {
	e := dec.after(dec.Net[0].Forward(d), len(dec.Net)-1)
	d.Close()
	defer e.Close()
	return asDType(outFolded(dec.Net[len(dec.Net)-1], out, e), t.dt)
}

func (tensorMachine) release(ts ...*tb.Tensor) { closeAll(ts...) }

// asDType converts an output computed under autocast (bfloat16) back to
// the input's dtype, so that losses and images are float32.
func asDType(t *tb.Tensor, dt tb.DType) *tb.Tensor {
	if t.DType() == dt {
		return t
	}
	defer t.Close()
	return t.ToDType(dt)
}

// closeAll releases handles that are no longer needed (nil ones too).
func closeAll(ts ...*tb.Tensor) {
	for _, t := range ts {
		t.Close()
	}
}
