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

// TranslateResidual is C2N keeping only the degradation the sampled
// latents add: clean + Translate(temperature) − Translate(0), both from
// the same h(x). The decode at temperature 0 (every degradation latent at
// its prior mean, as N2C decodes) carries what the model changes in any
// case — an undertrained decoder's blur and colour cast — so the
// difference is the model's noise alone, added to the clean image. It is
// not the authors' synthesis (theirs is Translate); it needs two decodes.
func (m *LUDVAE) TranslateResidual(clean, sigma *tb.Tensor, temperature float64, noise Noise) (out *tb.Tensor, err error) {
	err = tb.Try(func() {
		tb.NoGrad(func() {
			tb.WithScope(func(s *tb.Scope) {
				h := m.preprocess(clean, sigma, noise)
				noisy, mean := m.generate(h, temperature, noise), m.generate(h, 0, noise)
				out = s.Keep(clean.Add(noisy.Sub(mean)))
			})
		})
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
	err = tb.Do(func() error {
		if err := checkLabels(degraded, x); err != nil {
			return err
		}
		tb.NoGrad(func() { out = m.loss(x, h, NewSubset(degraded, x.Device()), noise).Output })
		return nil
	})
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
	scale := sigma.To(x.DType(), x.Device()).DivScalar(255).Reshape(s[0], 1, 1, 1)
	defer scale.Close()
	return noisyCopy(tensorMachine{noise: noise}, x, scale)
}

// generate decodes from the image latents of h with degradation latents
// drawn from the prior (priorLatent), each draw multiplied by the
// temperature.
func (m *LUDVAE) generate(h *tb.Tensor, temperature float64, noise Noise) *tb.Tensor {
	mc := tensorMachine{noise: noise, scale: tb.Full([]int64{h.Size(0)}, temperature, h.Options())}
	defer mc.scale.Close()
	return asDType(walk(m, mc, h, priorLatent(m, mc)), h.DType())
}
