package model

import (
	"fmt"

	tb "github.com/ludvae/ludvae/torchbind"
)

// Losses are the terms of one training forward pass.
type Losses struct {
	Output *tb.Tensor // decoded reconstruction, like the input
	Rec    *tb.Tensor // mean squared error of Output against the input (0-dim)
	KL     *tb.Tensor // Σ_levels Σ KL over degraded samples / (their count · C·H·W) (0-dim)
	KLSum  *tb.Tensor // the un-normalized sum
}

// Total is rec + w·kl, the quantity training minimizes.
func (l Losses) Total(w float64) *tb.Tensor { return l.Rec.Add(l.KL.MulScalar(w)) }

// Loss runs the training forward pass on a batch mixing both domains: x the
// inputs (clean x or degraded y, [N,C,H,W] in [0,1]), h the preprocessed
// inputs h(x), degraded[i] whether sample i is degraded. The degradation
// branch, the posterior samples and the KL are computed only for the
// degraded samples; the clean ones get z = 0, which equals the authors'
// masked computation without the wasted work.
func (m *LUDVAE) Loss(x, h *tb.Tensor, degraded []bool, noise Noise) (l Losses, err error) {
	if int64(len(degraded)) != x.Size(0) {
		return l, fmt.Errorf("model: %d domain labels for a batch of %d", len(degraded), x.Size(0))
	}
	err = tb.Try(func() { l = m.loss(x, h, NewSubset(degraded, x.Device()), noise) })
	return l, err
}

// LossOn is Loss with the degraded rows given on the device, as a CUDA
// graph needs them: uploading them while recording is not allowed.
func (m *LUDVAE) LossOn(x, h *tb.Tensor, s Subset, noise Noise) (l Losses, err error) {
	if s.N != x.Size(0) || (s.Idx == nil) != (s.Count == 0 || s.Count == s.N) {
		return l, fmt.Errorf("model: a subset of %d of %d rows (index %v) for a batch of %d", s.Count, s.N, s.Idx != nil, x.Size(0))
	}
	err = tb.Try(func() { l = m.loss(x, h, s, noise) })
	return l, err
}

// Subset is the degraded rows of a batch: Count of N, at the row numbers
// in Idx (int64 on the batch's device; nil when none or all are degraded).
type Subset struct {
	N, Count int64
	Idx      *tb.Tensor
}

// NewSubset uploads the degraded rows to dev.
func NewSubset(degraded []bool, dev tb.Device) Subset {
	var rows []int64
	for i, d := range degraded {
		if d {
			rows = append(rows, int64(i))
		}
	}
	s := Subset{N: int64(len(degraded)), Count: int64(len(rows))}
	if s.Count > 0 && s.Count < s.N {
		s.Idx = tb.FromSlice(rows).ToDevice(dev)
	}
	return s
}

func (s Subset) pick(t *tb.Tensor) *tb.Tensor {
	if s.Idx == nil {
		return t
	}
	return t.IndexSelect(0, s.Idx)
}

// place puts the subset's z into a batch of zeros (the clean samples' z).
func (s Subset) place(z *tb.Tensor) *tb.Tensor {
	if s.Idx == nil {
		return z
	}
	shape := z.Shape()
	shape[0] = s.N
	return tb.Zeros(shape, tb.Options{DType: z.DType(), Device: z.Device()}).IndexCopy(0, s.Idx, z)
}

func (m *LUDVAE) loss(x, h *tb.Tensor, sub Subset, noise Noise) Losses {
	L := m.Config.Levels
	a := m.imageFeatures(h)
	var n []*tb.Tensor
	if sub.Count > 0 {
		n = m.degradationFeatures(sub.pick(x))
	}
	var klSum *tb.Tensor
	addKL := func(k *tb.Tensor) {
		if klSum == nil {
			klSum = k
		} else {
			klSum = klSum.Add(k)
		}
	}

	// Handles are closed as soon as they are used; autograd keeps what the
	// backward needs.
	// Top level: the prior is N(0, 1).
	var z *tb.Tensor
	if sub.Count > 0 {
		mq, lsq := m.GauQ[L-1].Forward(n[L-1])
		z = sub.place(noise.sample(postSite(L), mq, lsq, nil, sub.Idx))
		k, _ := tb.GaussianKL(mq, lsq, nil, nil, nil)
		addKL(k)
		closeAll(mq, lsq, n[L-1])
	} else {
		z = tb.ZerosLike(a[L-1])
	}
	d := m.Proj[L-1].Forward(a[L-1], z)
	closeAll(z, a[L-1])
	for l := L - 1; l >= 1; l-- {
		e := m.Dec[l].Forward(d)
		b := m.ProjC[l-1].Forward(e, a[l-1])
		closeAll(d, e, a[l-1])
		if sub.Count > 0 {
			bs := sub.pick(b)
			c := m.ProjN[l-1].Forward(bs, n[l-1])
			mq, lsq := m.GauQ[l-1].Forward(c)
			mp, lsp := m.GauP[l-1].Forward(bs)
			z = sub.place(noise.sample(postSite(l), mq, lsq, nil, sub.Idx))
			k, _ := tb.GaussianKL(mq, lsq, mp, lsp, nil)
			addKL(k)
			closeAll(c, mq, lsq, mp, lsp, n[l-1])
			if bs != b {
				bs.Close()
			}
		} else {
			z = tb.ZerosLike(b)
		}
		d = m.Proj[l-1].Forward(b, z)
		closeAll(b, z)
	}
	out := m.output(d, x.DType())
	d.Close()
	rec := tb.MSELoss(out, x, tb.ReduceMean)
	var kl *tb.Tensor
	if klSum == nil {
		klSum = tb.Zeros(nil, rec.Options())
		kl = klSum
	} else {
		s := x.Shape()
		kl = klSum.DivScalar(float64(sub.Count * s[1] * s[2] * s[3]))
	}
	return Losses{Output: out, Rec: rec, KL: kl, KLSum: klSum}
}

// imageFeatures runs the image encoder on h(input): a_1 … a_L.
func (m *LUDVAE) imageFeatures(h *tb.Tensor) []*tb.Tensor {
	return encode(m.InConv, m.Enc, h)
}

// degradationFeatures runs the degradation encoder on the raw input: n_1 … n_L.
func (m *LUDVAE) degradationFeatures(x *tb.Tensor) []*tb.Tensor {
	return encode(m.InConvN, m.EncN, x)
}

// encode runs an input convolution and its blocks, the input convolution
// folded into the first block's first (fold.go).
func encode(in *Conv2d, blocks []*ConvBlock, x *tb.Tensor) []*tb.Tensor {
	feats := make([]*tb.Tensor, len(blocks))
	f := blocks[0].after(inFolded(in, blocks[0].Net[0], x), len(blocks[0].Net))
	feats[0] = f
	for l := 1; l < len(blocks); l++ {
		f = blocks[l].Forward(f)
		feats[l] = f
	}
	return feats
}

// output is the image the decoder makes from d: dec_1, then outconv folded
// into dec_1's last convolution (fold.go), in dtype dt.
func (m *LUDVAE) output(d *tb.Tensor, dt tb.DType) *tb.Tensor {
	dec := m.Dec[0]
	e := dec.after(dec.Net[0].Forward(d), len(dec.Net)-1)
	defer e.Close()
	return asDType(outFolded(dec.Net[len(dec.Net)-1], m.OutConv, e), dt)
}

// asDType converts an output computed under autocast (bfloat16) back to
// the input's dtype, so that losses and images are float32.
func asDType(t *tb.Tensor, dt tb.DType) *tb.Tensor {
	if t.DType() == dt {
		return t
	}
	defer t.Close()
	return t.ToDType(dt)
}

// closeAll releases handles that are no longer needed.
func closeAll(ts ...*tb.Tensor) {
	for _, t := range ts {
		t.Close()
	}
}

// FillMissingGrads gives every parameter without a gradient a zero one. A
// batch without degraded samples leaves the degradation branch without
// gradients; the authors' masked computation gives them zeros, which Adam
// still applies (its moments decay), so training calls this to follow them.
func (m *LUDVAE) FillMissingGrads() error {
	return tb.Try(func() {
		tb.WithScope(func(*tb.Scope) {
			tb.NoGrad(func() {
				for _, p := range m.Params() {
					if p.Tensor.Grad() == nil {
						p.Tensor.SetGrad(tb.ZerosLike(p.Tensor))
					}
				}
			})
		})
	})
}
