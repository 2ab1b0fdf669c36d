package model

import tb "github.com/ludvae/ludvae/torchbind"

// Each network is declared once, as Go code over a machine: the modules
// built at their state-dict paths (registry.go) and one walk over them per
// network (walk for LUD-VAE's ladder, dncnnWalk for DnCNN). The walks call
// the machine's operations in order, so the same declaration computes with
// libtorch tensors (tensorMachine: training, generation, denoising), writes
// TorchScript source (scriptMachine) or builds an ONNX graph
// (onnxMachine): the block internals, the prior, h(x) and DnCNN's layers
// are written here and in dncnn.go only.

// machine is what a walk computes with; V is its value: a tensor, a
// TorchScript variable, an ONNX tensor name.
type machine[V any] interface {
	conv(c *Conv2d, x V) V
	// convPair is second(first(x)), two convolutions with nothing between
	// them, one of them 1×1 (which the tensor machine folds, fold.go).
	convPair(first, second *Conv2d, x V) V
	// relu may reuse x's storage: the walk does not use x again.
	relu(x V) V
	cat(a, b V) V
	add(a, b V) V
	sub(a, b V) V
	mul(a, b V) V
	batchNorm(b *BatchNorm2d, x V) V
	// normalLike is standard normal noise shaped like x, drawn at site.
	normalLike(site Site, x V) V
	// sample is (mean + e^{logSigma}·ε)·T with ε drawn at site and T the
	// machine's temperature; g nil is N(0, 1) shaped like like.
	sample(site Site, g *gaussian[V], like V) V
	// release says values are no longer needed.
	release(vs ...V)
}

// gaussian is a diagonal Gaussian: mean and log standard deviation.
type gaussian[V any] struct{ mean, logSigma V }

// latent returns z_l given the decoder's features b at level l (a_L at the
// top level); it may keep b, the walk releases it.
type latent[V any] func(l int, b V) V

// walk runs the network on h(input): the image encoder, the decoder from
// the top level down with z_l = z(l, b_l), and the output convolution.
func walk[V any](m *LUDVAE, mc machine[V], h V, z latent[V]) V {
	a := encode(mc, m.InConv, m.Enc, h)
	L := len(a)
	zl := z(L, a[L-1])
	d := proj(mc, m.Proj[L-1], a[L-1], zl)
	mc.release(zl, a[L-1])
	for l := L - 1; l >= 1; l-- {
		e := block(mc, m.Dec[l], d)
		b := proj(mc, m.ProjC[l-1], e, a[l-1])
		mc.release(d, e, a[l-1])
		zl = z(l, b)
		d = proj(mc, m.Proj[l-1], b, zl)
		mc.release(b, zl)
	}
	return output(mc, m.Dec[0], m.OutConv, d)
}

// encode runs an input convolution (1×1) and its blocks: a_1 … a_L.
func encode[V any](mc machine[V], in *Conv2d, blocks []*ConvBlock, x V) []V {
	feats := make([]V, len(blocks))
	f := blockFrom(mc, blocks[0], mc.convPair(in, blocks[0].Net[0], x), 1, len(blocks[0].Net))
	feats[0] = f
	for l := 1; l < len(blocks); l++ {
		f = block(mc, blocks[l], f)
		feats[l] = f
	}
	return feats
}

// block is a ConvBlock: its convolutions with a ReLU between each two.
func block[V any](mc machine[V], b *ConvBlock, x V) V {
	return blockFrom(mc, b, mc.conv(b.Net[0], x), 1, len(b.Net))
}

// blockFrom continues block b from y, the output of convolution from−1,
// through the ReLU before convolution end (len(Net): the whole block).
// Each value is released as soon as it is used.
func blockFrom[V any](mc machine[V], b *ConvBlock, y V, from, end int) V {
	for i := from; i < end; i++ {
		y = mc.relu(y)
		z := mc.conv(b.Net[i], y)
		mc.release(y)
		y = z
	}
	if end < len(b.Net) {
		y = mc.relu(y)
	}
	return y
}

// proj is a ProjBlock: proj(cat(a, b)).
func proj[V any](mc machine[V], p *ProjBlock, a, b V) V {
	ab := mc.cat(a, b)
	y := mc.conv(p.Proj, ab)
	mc.release(ab)
	return y
}

// gauss is a GauBlock: the mean and log-sigma 1×1 convolutions of x.
func gauss[V any](mc machine[V], g *GauBlock, x V) *gaussian[V] {
	return &gaussian[V]{mean: mc.conv(g.M, x), logSigma: mc.conv(g.V, x)}
}

// output is outconv(dec_1(d)); it releases d.
func output[V any](mc machine[V], dec *ConvBlock, out *Conv2d, d V) V {
	e := blockFrom(mc, dec, mc.conv(dec.Net[0], d), 1, len(dec.Net)-1)
	mc.release(d)
	y := mc.convPair(dec.Net[len(dec.Net)-1], out, e)
	mc.release(e)
	return y
}

// priorLatent is generation's latent: z_L = ε·T from N(0, 1) at the top
// level, z_l = (μp + e^{log σp}·ε)·T from Gauconv_p_l(b) below, T the
// machine's temperature, ε drawn at PriorSite(l).
func priorLatent[V any](m *LUDVAE, mc machine[V]) latent[V] {
	return func(l int, b V) V {
		if l == len(m.Enc) {
			return mc.sample(PriorSite(l), nil, b)
		}
		g := gauss(mc, m.GauP[l-1], b)
		defer mc.release(g.mean, g.logSigma)
		return mc.sample(PriorSite(l), g, b)
	}
}

// noisyCopy is the preprocessing h(x) = x + ε·s, ε drawn at HSite, s the
// noise level σx/255 per image (broadcast over C, H and W).
func noisyCopy[V any](mc machine[V], x, s V) V {
	e := mc.normalLike(HSite, x)
	n := mc.mul(e, s)
	mc.release(e)
	h := mc.add(x, n)
	mc.release(n)
	return h
}

// tensorMachine computes the walks with libtorch. Handles are closed as
// soon as they are used (release); autograd keeps what the backward
// needs. noise draws ε, scale is the temperature per image (generation),
// training selects batch norm's batch statistics.
type tensorMachine struct {
	noise    Noise
	scale    *tb.Tensor
	training bool
	// blocked keeps activations in oneDNN's blocked layout (tb.Blocked):
	// the input convolutions' outputs are made blocked, and cat, which
	// blocked tensors lack, joins dense copies.
	blocked bool
}

func (tensorMachine) conv(c *Conv2d, x *tb.Tensor) *tb.Tensor { return c.Forward(x) }

// convPair folds the 1×1 convolution into the 3×3 one (fold.go).
func (t tensorMachine) convPair(first, second *Conv2d, x *tb.Tensor) *tb.Tensor {
	if first.Weight.Size(2) == 1 {
		return t.toBlocked(inFolded(first, second, x))
	}
	return outFolded(first, second, x)
}

// toBlocked returns x blocked when the machine is (closing x), else x.
func (t tensorMachine) toBlocked(x *tb.Tensor) *tb.Tensor {
	if !t.blocked || x.IsBlocked() {
		return x
	}
	defer x.Close()
	return x.Blocked()
}

func (tensorMachine) relu(x *tb.Tensor) *tb.Tensor { return x.ReluInPlace() }

func (t tensorMachine) cat(a, b *tb.Tensor) *tb.Tensor {
	if !t.blocked {
		return tb.Cat([]*tb.Tensor{a, b}, 1)
	}
	var y *tb.Tensor
	tb.WithScope(func(sc *tb.Scope) {
		y = sc.Keep(tb.Cat([]*tb.Tensor{a.Dense(), b.Dense()}, 1).Blocked())
	})
	return y
}

func (tensorMachine) add(a, b *tb.Tensor) *tb.Tensor { return a.Add(b) }

func (tensorMachine) sub(a, b *tb.Tensor) *tb.Tensor { return a.Sub(b) }

func (tensorMachine) mul(a, b *tb.Tensor) *tb.Tensor { return a.Mul(b) }

func (t tensorMachine) batchNorm(b *BatchNorm2d, x *tb.Tensor) *tb.Tensor {
	return b.Forward(x, t.training)
}

func (t tensorMachine) normalLike(site Site, x *tb.Tensor) *tb.Tensor {
	return t.noise.normal(site, x.Shape(), x.Options())
}

// sample draws through the fused kernel (tb.Reparameterize).
func (t tensorMachine) sample(site Site, g *gaussian[*tb.Tensor], like *tb.Tensor) *tb.Tensor {
	if g == nil {
		z := tb.ZerosLike(like) // N(0, 1): μ = 0, log σ = 0
		defer z.Close()
		g = &gaussian[*tb.Tensor]{mean: z, logSigma: z}
	}
	return t.noise.sample(site, g.mean, g.logSigma, t.scale, nil)
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
