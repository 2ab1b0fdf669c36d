package model

import (
	"fmt"
	"strings"
	"testing"

	tb "github.com/ludvae/ludvae/torchbind"
)

// parity replays the authors' f8 reference computation in dtype dt: their
// state dict, their ε at every sampling site. Every compared quantity must
// be within tol(reference) of the reference.
// checkAdam compares one Adam step too: in float64 only, since in float32 a
// first Adam step is ≈ −lr·g/(|g|+ε) and turns the rounding error of tiny
// gradients into arbitrary step differences (Adam itself is held to torch's
// bits in torchbind's tests).
func parity(t *testing.T, dt tb.DType, dev tb.Device, tol func(ref float64) float64, checkAdam bool) {
	v := loadVectors(t)
	m, err := Load(officialStateDict, tb.Options{DType: dt, Device: dev})
	must(t, err)
	defer m.Close()
	tb.WithScope(func(*tb.Scope) {
		mustTry(t, func() {
			x := v.get(t, "x").To(dt, dev)
			hx := v.get(t, "hx").To(dt, dev)
			noise := v.noise(t, dt, dev)
			worst := map[string]float64{}
			defer func() { t.Logf("%v: largest errors %v", dt, worst) }()
			check := func(name string, got, want *tb.Tensor) {
				t.Helper()
				e, lim := maxAbsErr(t, got, want), tol(maxAbs(t, want))
				if e > lim {
					t.Errorf("%s: max abs error %.3g > %.3g", name, e, lim)
				}
				kind := strings.SplitN(name, " ", 2)[0]
				worst[kind] = max(worst[kind], e)
			}
			l, err := m.Loss(x, hx, v.degraded(t), noise)
			must(t, err)
			total := l.Total(v.get(t, "kl_weight").Item())
			check("decoded output", l.Output, v.get(t, "dec"))
			check("rec", l.Rec, v.get(t, "rec_loss"))
			check("kl", l.KL, v.get(t, "kl_loss"))
			check("kl sum", l.KLSum, v.get(t, "kl_sum"))
			check("total loss", total, v.get(t, "loss"))

			total.Backward()
			must(t, m.FillMissingGrads())
			for _, p := range m.Params() {
				check("gradient of "+p.Name, p.Tensor.Grad(), v.get(t, "grad."+p.Name))
			}
			if !checkAdam {
				return
			}
			opt := tb.NewAdam(m.Tensors(), tb.DefaultAdam)
			defer opt.Close()
			opt.Step()
			for _, p := range m.Params() {
				check("after one Adam step, "+p.Name, p.Tensor, v.get(t, "adam1."+p.Name))
			}
		})
	})
	// C2N from the reference h(x) with the original parameters.
	m2, err := Load(officialStateDict, tb.Options{DType: dt, Device: dev})
	must(t, err)
	defer m2.Close()
	tb.WithScope(func(*tb.Scope) {
		mustTry(t, func() {
			hx := v.get(t, "hx").To(dt, dev)
			for _, temp := range []float64{1, 0} {
				out, err := m2.TranslateH(hx, temp, v.noise(t, dt, dev))
				must(t, err)
				want := v.get(t, fmt.Sprintf("translate_t%g", temp))
				if e, lim := maxAbsErr(t, out, want), tol(maxAbs(t, want)); e > lim {
					t.Errorf("C2N at temperature %g: max abs error %.3g > %.3g", temp, e, lim)
				}
			}
		})
	})
}

// TestParityFloat64 holds the network to the authors' numbers within 1e-9.
func TestParityFloat64(t *testing.T) {
	t.Parallel()
	parity(t, tb.Float64, tb.CPU, func(float64) float64 { return 1e-9 }, true)
}

// TestParityFloat32 runs the same replay in float32. float32 rounds at
// 6e-8 relative; the deepest path has ~30 layers, each summing up to
// 2F·9 = 144 products, so rounding grows to ~30·6e-8·√144 ≈ 2e-5 of the
// magnitude in the worst case seen by gradient tests; 1e-4 relative to the
// largest reference value leaves a margin of 5 without hiding a real error
// (a wrong sign or a swapped operand gives errors of order 1).
func TestParityFloat32(t *testing.T) {
	t.Parallel()
	parity(t, tb.Float32, tb.CPU, func(ref float64) float64 { return 1e-4 * max(1, ref) }, false)
}

// TestParityCUDA is the float64 replay on the GPU (run by `make gpu-check`
// on a machine that has one; there is nothing to run without a card).
func TestParityCUDA(t *testing.T) {
	t.Parallel()
	if tb.CUDADeviceCount() == 0 {
		t.Skip("no CUDA device: this shim is a " + tb.BuildKind() + " build")
	}
	parity(t, tb.Float64, tb.CUDA(0), func(float64) float64 { return 1e-9 }, true)
}
