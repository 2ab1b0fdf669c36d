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

// Total is rec + w·kl, the quantity training minimizes. Like a tensor
// operation it panics with *tb.Error (call it under tb.Try or tb.Do).
func (l Losses) Total(w float64) *tb.Tensor { return l.Rec.Add(l.KL.MulScalar(w)) }

// Loss runs the training forward pass on a batch mixing both domains: x the
// inputs (clean x or degraded y, [N,C,H,W] in [0,1]), h the preprocessed
// inputs h(x), degraded[i] whether sample i is degraded. The degradation
// branch, the posterior samples and the KL are computed only for the
// degraded samples; the clean ones get z = 0, which equals the authors'
// masked computation without the wasted work.
func (m *LUDVAE) Loss(x, h *tb.Tensor, degraded []bool, noise Noise) (l Losses, err error) {
	err = tb.Do(func() error {
		if err := checkLabels(degraded, x); err != nil {
			return err
		}
		l = m.loss(x, h, NewSubset(degraded, x.Device()), noise)
		return nil
	})
	return l, err
}

// LossOn is Loss with the degraded rows given on the device, as a CUDA
// graph needs them: uploading them while recording is not allowed.
func (m *LUDVAE) LossOn(x, h *tb.Tensor, s Subset, noise Noise) (l Losses, err error) {
	err = tb.Do(func() error {
		if s.N != x.Size(0) || (s.Idx == nil) != (s.Count == 0 || s.Count == s.N) {
			return fmt.Errorf("model: a subset of %d of %d rows (index %v) for a batch of %d", s.Count, s.N, s.Idx != nil, x.Size(0))
		}
		l = m.loss(x, h, s, noise)
		return nil
	})
	return l, err
}

// checkLabels reports domain labels that do not match the batch x.
func checkLabels(degraded []bool, x *tb.Tensor) error {
	if int64(len(degraded)) != x.Size(0) {
		return fmt.Errorf("model: %d domain labels for a batch of %d", len(degraded), x.Size(0))
	}
	return nil
}

// Subset is the degraded rows of a batch: Count of N, at the row numbers
// in Idx (int64 on the batch's device; nil when none or all are degraded).
type Subset struct {
	N, Count int64
	Idx      *tb.Tensor
}

// NewSubset uploads the degraded rows to dev. Like a tensor operation it
// panics with *tb.Error.
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
	mc := tensorMachine{blocked: m.blocked}
	q := &posterior{m: m, sub: sub, noise: noise}
	if sub.Count > 0 {
		q.n = encode(mc, m.InConvN, m.EncN, sub.pick(x))
	}
	out := asDType(toDense(walk(m, mc, h, q.latent)), x.DType())
	rec := tb.MSELoss(out, x, tb.ReduceMean)
	klSum, kl := q.klSum, q.klSum
	if klSum == nil {
		klSum = tb.Zeros(nil, rec.Options())
		kl = klSum
	} else {
		s := x.Shape()
		kl = klSum.DivScalar(float64(sub.Count * s[1] * s[2] * s[3]))
	}
	return Losses{Output: out, Rec: rec, KL: kl, KLSum: klSum}
}

// posterior is the training pass's latent: z_l drawn from the posterior
// q(z_l | b_l, n_l) for the degraded rows and 0 for the clean ones, with
// the KL against the level's prior summed in klSum.
type posterior struct {
	m     *LUDVAE
	n     []*tb.Tensor // the degradation features of the degraded rows
	sub   Subset
	noise Noise
	klSum *tb.Tensor
}

// latent is z_l. The top level's posterior sees n_L alone and its prior is
// N(0, 1) (nil mean and log-sigma); below, both see the degraded rows of b.
func (q *posterior) latent(l int, b *tb.Tensor) *tb.Tensor {
	if q.sub.Count == 0 {
		if b.IsBlocked() {
			return tb.Zeros(b.Shape(), tb.Options{DType: b.DType(), Device: b.Device()})
		}
		return tb.ZerosLike(b)
	}
	// The posterior's own convolutions are few and small: they run on
	// dense tensors, which the sampling and KL kernels need.
	// (Dense gives a handle of its own, to the same tensor when it is dense.)
	var mq, lsq, mp, lsp *tb.Tensor
	n := q.n[l-1].Dense()
	if l == len(q.n) {
		mq, lsq = q.m.GauQ[l-1].Forward(n)
	} else {
		bd := b.Dense()
		bs := q.sub.pick(bd)
		c := q.m.ProjN[l-1].Forward(bs, n)
		mq, lsq = q.m.GauQ[l-1].Forward(c)
		mp, lsp = q.m.GauP[l-1].Forward(bs)
		if bs != bd {
			bs.Close()
		}
		closeAll(c, bd)
	}
	n.Close()
	z := q.sub.place(q.noise.sample(PostSite(l), mq, lsq, nil, q.sub.Idx))
	k, _ := tb.GaussianKL(mq, lsq, mp, lsp, nil)
	if q.klSum == nil {
		q.klSum = k
	} else {
		q.klSum = q.klSum.Add(k)
	}
	closeAll(mq, lsq, mp, lsp, q.n[l-1])
	return z
}

// toDense returns x dense, closing x when it was blocked.
func toDense(x *tb.Tensor) *tb.Tensor {
	if !x.IsBlocked() {
		return x
	}
	defer x.Close()
	return x.Dense()
}

// FillMissingGrads gives every parameter without a gradient a zero one. A
// batch without degraded samples leaves the degradation branch without
// gradients; the authors' masked computation gives them zeros, which Adam
// still applies (its moments decay), so training calls this to follow them.
func (m *LUDVAE) FillMissingGrads() error {
	return tb.Try(func() {
		tb.WithScope(func(*tb.Scope) {
			tb.NoGrad(func() {
				for _, p := range m.Tensors() {
					if p.Grad() == nil {
						p.SetGrad(tb.ZerosLike(p))
					}
				}
			})
		})
	})
}
