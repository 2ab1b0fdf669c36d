package noisestats

import (
	"math"
	"slices"
	"testing"
)

func TestHistogramBinsAndClamping(t *testing.T) {
	// limit 2, step 1: bins centred on −2..2, i.e. [−2.5,−1.5) … [1.5,2.5).
	h := Histogram([]float64{-100, -2, -1.6, -0.5, -0.49, 0, 0.49, 0.5, 2.4999, 3, math.Inf(1), math.NaN()}, 2, 1)
	// Bins are half-open [c−½, c+½): −100, −2, −1.6 → −2; −0.5 … 0.49 and
	// NaN (counted in the middle) → 0; 0.5 → 1; 2.4999, 3, +Inf → 2.
	want := []int64{3, 0, 5, 1, 3}
	if !slices.Equal(h, want) {
		t.Errorf("histogram %v, want %v", h, want)
	}
	// Noise between 8-bit images is a whole number of grey levels; float32
	// rounding of (a−b)/255·255 must not move it off its bin.
	for d := -64; d <= 64; d++ {
		v := 255 * float64(float32(float32(100+d)/255)-float32(float32(100)/255))
		h := Histogram([]float64{v}, 64, 1)
		if h[d+64] != 1 {
			t.Fatalf("difference of %d grey levels (%.9g) not counted in its bin", d, v)
		}
	}
}

func TestKLIdenticalIsZero(t *testing.T) {
	p := []int64{0, 5, 17, 3, 0, 1}
	if kl := KL(p, p, 1e-6); kl != 0 {
		t.Errorf("KL(p‖p) = %v, want 0", kl)
	}
	q := []int64{0, 10, 34, 6, 0, 2} // same distribution, twice the counts
	within(t, "KL of proportional histograms", KL(p, q, 1e-6), 0, 1e-15)
	within(t, "KL([1,0]‖[1,1]) without epsilon", KL([]int64{1, 0}, []int64{1, 1}, 0), math.Ln2, 1e-15)
	if kl := KL([]int64{0, 0}, []int64{1, 1}, 1e-6); !math.IsNaN(kl) {
		t.Errorf("KL of an empty histogram = %v, want NaN", kl)
	}
	if kl := KL([]int64{1, 0}, []int64{0, 1}, 1e-6); math.IsInf(kl, 0) || kl < 10 {
		t.Errorf("KL of disjoint histograms with epsilon = %v, want large and finite", kl)
	}
}

// gaussKL is the closed form KL(N(0,s1²)‖N(0,s2²)) = ln(s2/s1) + s1²/(2s2²) − ½.
func gaussKL(s1, s2 float64) float64 {
	return math.Log(s2/s1) + s1*s1/(2*s2*s2) - 0.5
}

// gaussCounts is the histogram of N(0, s²) with n values in expectation
// (bins of DefaultConfig), from the normal CDF.
func gaussCounts(s, n float64) []int64 {
	cfg := DefaultConfig()
	centers := cfg.HistCenters()
	out := make([]int64, len(centers))
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-x/(s*math.Sqrt2)) }
	for i, c := range centers {
		lo, hi := cdf(c-cfg.HistStep/2), cdf(c+cfg.HistStep/2)
		if i == 0 {
			lo = 0
		}
		if i == len(centers)-1 {
			hi = 1
		}
		out[i] = int64(math.Round(n * (hi - lo)))
	}
	return out
}

func TestKLTwoGaussiansClosedForm(t *testing.T) {
	cfg := DefaultConfig()
	const s1, s2 = 8.0, 12.0 // grey levels
	want := gaussKL(s1, s2)  // 0.12769 nats
	// Exact expected histograms: the only errors are binning (width 1 ≪ σ:
	// O((step/σ)²) relative, < 0.2%) and the epsilon floor (≤ 129·1e-6
	// of mass moved). 0.5% relative covers both.
	got := KL(gaussCounts(s1, 1e12), gaussCounts(s2, 1e12), cfg.Epsilon)
	t.Logf("closed form %.6f, binned %.6f", want, got)
	within(t, "KL of binned Gaussians", got, want, 0.005*want)

	// Sampled: 2^20 values per side. The plug-in estimator's bias is about
	// (occupied bins)/(2n) ≈ 1e-4 and its standard error about
	// sqrt(Var[ln p/q]/n) ≈ 3e-4; 0.003 is ten of those.
	rng := newRand(6)
	const n = 1 << 20
	a, b := make([]float64, n), make([]float64, n)
	for i := range a {
		a[i] = s1 * rng.NormFloat64()
		b[i] = s2 * rng.NormFloat64()
	}
	got = KL(Histogram(a, cfg.HistLimit, cfg.HistStep), Histogram(b, cfg.HistLimit, cfg.HistStep), cfg.Epsilon)
	t.Logf("sampled %.6f", got)
	within(t, "KL of sampled Gaussian histograms", got, want, 0.003)
}
