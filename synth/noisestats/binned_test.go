package noisestats

import (
	"math"
	"testing"
)

// The sample std of n normal values has relative standard error
// 1/sqrt(2(n−1)); every tolerance below is 5 of those.
func stdTol(sigma float64, n int64) float64 { return 5 * sigma / math.Sqrt(2*float64(n-1)) }

func TestBinnedStdWhiteGaussianIsFlat(t *testing.T) {
	rng := newRand(1)
	const w, h, sigma, bins = 512, 512, 10.0 / 255, 16
	clean := uniformClean(w, h, rng)
	noise := whiteNoise(w, h, sigma, rng)
	for c := 0; c < Channels; c++ {
		std, count := BinnedStd(noise.Plane(c), clean.Plane(c), bins)
		var total int64
		for b := range std {
			total += count[b]
			within(t, "channel std in bin", std[b], sigma, stdTol(sigma, count[b]))
		}
		if total != w*h {
			t.Errorf("channel %d: bins hold %d values, want %d", c, total, w*h)
		}
	}
}

// closedFormBinStd is the std, over clean intensities uniform in [l,u], of
// zero-mean noise with std a·I + b: sqrt(E[(aI+b)²]) =
// sqrt(((au+b)³ − (al+b)³) / (3a(u−l))).
func closedFormBinStd(a, b, l, u float64) float64 {
	return math.Sqrt((math.Pow(a*u+b, 3) - math.Pow(a*l+b, 3)) / (3 * a * (u - l)))
}

func TestBinnedStdSignalDependent(t *testing.T) {
	rng := newRand(2)
	const w, h, bins = 512, 512, 16
	a, b := 20.0/255, 2.0/255 // σ(I) = a·I + b: 2 grey levels at black, 22 at white
	clean := uniformClean(w, h, rng)
	noise := whiteNoise(w, h, 1, rng)
	for i, v := range clean.Pix {
		noise.Pix[i] *= float32(a*float64(v) + b)
	}
	edges := BinEdges(bins)
	std, count := BinnedStd(noise.Plane(0), clean.Plane(0), bins)
	for k := range std {
		want := closedFormBinStd(a, b, edges[k], edges[k+1])
		// Within a bin the values are a scale mixture, whose std estimate
		// varies a little more than a normal sample's; 5 normal standard
		// errors still hold it (the mixture is nearly flat in a bin).
		within(t, "signal-dependent std in bin", std[k], want, stdTol(want, count[k]))
		if k > 0 && !(std[k] > std[k-1]) {
			t.Errorf("bin %d std %.4g not above bin %d's %.4g", k, std[k], k-1, std[k-1])
		}
	}
}

func TestBinnedStdEdgesAndEmptyBins(t *testing.T) {
	noise := []float32{1, 3, 5, 7, 100}
	clean := []float32{-0.5, 0, 0.99, 1, 0.6}
	std, count := BinnedStd(noise, clean, 4)
	// -0.5 and 0 go to bin 0; 0.99 and 1 to bin 3; 0.6 to bin 2; bin 1 empty.
	wantCount := []int64{2, 0, 1, 2}
	for i := range count {
		if count[i] != wantCount[i] {
			t.Fatalf("counts %v, want %v", count, wantCount)
		}
	}
	within(t, "bin 0 std", std[0], math.Sqrt2, 1e-12) // {1,3}: sample std sqrt(2)
	within(t, "bin 3 std", std[3], math.Sqrt2, 1e-12)
	if !math.IsNaN(std[1]) || !math.IsNaN(std[2]) {
		t.Errorf("bins with fewer than two values: std %v, want NaN", std)
	}
}
