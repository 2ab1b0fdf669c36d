package model

import (
	"fmt"

	tb "github.com/ludvae/ludvae/torchbind"
)

// Translate is C2N: it turns clean images [N,C,H,W] in [0,1] into synthetic
// degraded ones. sigma [N] is each image's σx on the 0–255 scale for the
// preprocessing h(x) = x + σx/255·ε; the degradation latents are drawn from
// the prior, top level first, each whole draw multiplied by temperature.
// No gradients are recorded.
func (m *LUDVAE) Translate(clean, sigma *tb.Tensor, temperature float64, noise Noise) (out *tb.Tensor, err error) {
	err = tb.Try(func() {
		tb.NoGrad(func() { out = m.generate(m.preprocess(clean, sigma, noise), temperature, noise) })
	})
	return out, err
}

// TranslateH is Translate given h(x) already (to replay reference vectors).
func (m *LUDVAE) TranslateH(h *tb.Tensor, temperature float64, noise Noise) (out *tb.Tensor, err error) {
	err = tb.Try(func() { tb.NoGrad(func() { out = m.generate(h, temperature, noise) }) })
	return out, err
}

// CleanEstimate is N2C: degraded images → image latents of h(y) with every
// degradation latent zero → an estimate of the clean image.
func (m *LUDVAE) CleanEstimate(degraded, sigma *tb.Tensor, noise Noise) (out *tb.Tensor, err error) {
	err = tb.Try(func() {
		tb.NoGrad(func() { out = m.generate(m.preprocess(degraded, sigma, noise), 0, noise) })
	})
	return out, err
}

// Reconstruct runs the training forward pass without gradients and returns
// the decoded output (posterior samples for degraded inputs).
func (m *LUDVAE) Reconstruct(x, h *tb.Tensor, degraded []bool, noise Noise) (out *tb.Tensor, err error) {
	if int64(len(degraded)) != x.Size(0) {
		return nil, fmt.Errorf("model: %d domain labels for a batch of %d", len(degraded), x.Size(0))
	}
	err = tb.Try(func() { tb.NoGrad(func() { out = m.loss(x, h, NewSubset(degraded, x.Device()), noise).Output }) })
	return out, err
}

// Preprocess is h(x) = x + σ/255·ε with σ [N] on the 0–255 scale.
func (m *LUDVAE) Preprocess(x, sigma *tb.Tensor, noise Noise) (h *tb.Tensor, err error) {
	err = tb.Try(func() { tb.NoGrad(func() { h = m.preprocess(x, sigma, noise) }) })
	return h, err
}

func (m *LUDVAE) preprocess(x, sigma *tb.Tensor, noise Noise) *tb.Tensor {
	s := x.Shape()
	if sigma.Numel() != s[0] {
		panic(&tb.Error{Op: "preprocess", Msg: fmt.Sprintf("%d noise levels for a batch of %d", sigma.Numel(), s[0])})
	}
	eps := noise.normal(hSite, s, x.Options())
	scale := sigma.To(x.DType(), x.Device()).DivScalar(255).Reshape(s[0], 1, 1, 1)
	return x.Add(eps.Mul(scale))
}

// generate decodes from the image latents of h with degradation latents
// drawn from the prior: z_L = ε·T, z_l = (μp + e^{log σp}·ε)·T.
func (m *LUDVAE) generate(h *tb.Tensor, temperature float64, noise Noise) *tb.Tensor {
	L := m.Config.Levels
	a := m.imageFeatures(h)
	o := h.Options()
	n := h.Size(0)
	scale := tb.Full([]int64{n}, temperature, o)
	zero := tb.ZerosLike(a[L-1]) // N(0, 1): μ = 0, log σ = 0
	z := noise.sample(priorSite(L), zero, zero, scale, nil)
	d := m.Proj[L-1].Forward(a[L-1], z)
	closeAll(zero, z, a[L-1])
	for l := L - 1; l >= 1; l-- {
		e := m.Dec[l].Forward(d)
		b := m.ProjC[l-1].Forward(e, a[l-1])
		closeAll(d, e, a[l-1])
		mp, lsp := m.GauP[l-1].Forward(b)
		z := noise.sample(priorSite(l), mp, lsp, scale, nil)
		closeAll(mp, lsp)
		d = m.Proj[l-1].Forward(b, z)
		closeAll(b, z)
	}
	out := m.output(d, h.DType())
	d.Close()
	return out
}
