package noisestats

import (
	"math"
	"testing"
)

// For a stationary series, Bartlett's formula gives the variance of a
// lag-k sample correlation as (1/n)·Σ_j (ρ_j² + ρ_{j+k}ρ_{j−k} − …); for the
// cases here it is at most 1.5/n (zero true correlation next to a 0.5
// one), so 5·sqrt(1.5/n) bounds every estimate.
func corrTol(n int) float64 { return 5 * math.Sqrt(1.5/float64(n)) }

func TestCorrelationWhiteNoiseIsZero(t *testing.T) {
	const w, h = 512, 512
	noise := whiteNoise(w, h, 1, newRand(3))
	p := noise.Plane(0)
	for lag := 1; lag <= MaxLag; lag++ {
		within(t, "horizontal correlation of white noise", Correlation(p, w, h, lag, 0), 0, corrTol((w-lag)*h))
		within(t, "vertical correlation of white noise", Correlation(p, w, h, 0, lag), 0, corrTol(w*(h-lag)))
	}
	within(t, "lag-0 correlation", Correlation(p, w, h, 0, 0), 1, 1e-12)
}

// boxFiltered averages white noise over 2-tap windows along one axis:
// m(x, y) = (w(x, y) + w(x+1, y)) / 2 for horizontal. Neighbours share one
// of two terms, so the lag-1 correlation along that axis is exactly 0.5 and
// every other lag and the other axis are uncorrelated.
func boxFiltered(w, h int, horizontal bool, seed uint64) []float32 {
	ww, hh := w+1, h
	if !horizontal {
		ww, hh = w, h+1
	}
	white := whiteNoise(ww, hh, 1, newRand(seed)).Plane(0)
	out := make([]float32, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a := white[y*ww+x]
			b := white[y*ww+x+1]
			if !horizontal {
				b = white[(y+1)*ww+x]
			}
			out[y*w+x] = (a + b) / 2
		}
	}
	return out
}

func TestCorrelationBoxFilter(t *testing.T) {
	const w, h = 512, 512
	n := w * h
	ph := boxFiltered(w, h, true, 4)
	within(t, "horizontal lag-1 correlation of [1,1]/2-filtered noise", Correlation(ph, w, h, 1, 0), 0.5, corrTol(n))
	within(t, "horizontal lag-2 correlation", Correlation(ph, w, h, 2, 0), 0, corrTol(n))
	within(t, "vertical lag-1 correlation of horizontally filtered noise", Correlation(ph, w, h, 0, 1), 0, corrTol(n))
	pv := boxFiltered(w, h, false, 5)
	within(t, "vertical lag-1 correlation of vertically filtered noise", Correlation(pv, w, h, 0, 1), 0.5, corrTol(n))
	within(t, "vertical lag-2 correlation", Correlation(pv, w, h, 0, 2), 0, corrTol(n))
	within(t, "horizontal lag-1 of vertically filtered noise", Correlation(pv, w, h, 1, 0), 0, corrTol(n))
}

func TestCorrelationExactSmallCase(t *testing.T) {
	// One row 1,2,3,4: the pairs (1,2),(2,3),(3,4) are perfectly correlated;
	// at lag 2, (1,3),(2,4) likewise. An alternating row is anti-correlated.
	within(t, "ramp lag 1", Correlation([]float32{1, 2, 3, 4}, 4, 1, 1, 0), 1, 1e-12)
	within(t, "ramp lag 2", Correlation([]float32{1, 2, 3, 4}, 4, 1, 2, 0), 1, 1e-12)
	within(t, "alternating lag 1", Correlation([]float32{1, -1, 1, -1, 1}, 5, 1, 1, 0), -1, 1e-12)
	if v := Correlation([]float32{1, 2}, 2, 1, 5, 0); !math.IsNaN(v) {
		t.Errorf("lag beyond the plane: %v, want NaN", v)
	}
	if v := Correlation([]float32{3, 3, 3}, 3, 1, 1, 0); !math.IsNaN(v) {
		t.Errorf("constant plane: %v, want NaN", v)
	}
}
