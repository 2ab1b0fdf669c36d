package noisestats

import (
	"math"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
)

// addPair returns degraded = clean + noise.
func addPair(clean, noise *images.Image) *images.Image {
	d := clean.Clone()
	for i := range d.Pix {
		d.Pix[i] += noise.Pix[i]
	}
	return d
}

func TestAccumulatorWhiteGaussian(t *testing.T) {
	rng := newRand(7)
	const w, h, sigma = 384, 384, 10.0 // σ in grey levels
	acc, err := NewAccumulator(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	clean := uniformClean(w, h, rng)
	if err := acc.Add(addPair(clean, whiteNoise(w, h, sigma/255, rng)), clean); err != nil {
		t.Fatal(err)
	}
	s := acc.Stats()
	if s.Pairs != 1 || s.Pixels != w*h {
		t.Fatalf("Pairs %d Pixels %d, want 1 and %d", s.Pairs, s.Pixels, w*h)
	}
	n := w * h
	for c := 0; c < Channels; c++ {
		within(t, "std (grey levels)", s.Std[c], sigma, stdTol(sigma, int64(n)))
		within(t, "mean (grey levels)", s.Mean[c], 0, 5*sigma/math.Sqrt(float64(n)))
		for b, v := range s.BinStd[c] {
			within(t, "std in bin (grey levels)", v, sigma, stdTol(sigma, s.BinCount[c][b]))
		}
		for l := 0; l < MaxLag; l++ {
			within(t, "horizontal correlation", s.CorrH[c][l], 0, corrTol(n))
			within(t, "vertical correlation", s.CorrV[c][l], 0, corrTol(n))
		}
	}
	within(t, "pooled std", s.StdAll, sigma, stdTol(sigma, int64(3*n)))
	within(t, "mean lag-1 correlation", s.CorrMean(1), 0, corrTol(6*n))
	var total int64
	for _, v := range s.HistAll() {
		total += v
	}
	if total != int64(3*n) {
		t.Errorf("pooled histogram holds %d values, want %d", total, 3*n)
	}
}

func TestAccumulatorBoxFilteredNoise(t *testing.T) {
	const w, h = 384, 384
	n := w * h
	noise := images.New(w, h)
	copy(noise.Plane(0), boxFiltered(w, h, true, 8))
	copy(noise.Plane(1), boxFiltered(w, h, false, 9))
	copy(noise.Plane(2), whiteNoise(w, h, 1, newRand(10)).Plane(0))
	for i := range noise.Pix {
		noise.Pix[i] *= 8.0 / 255
	}
	acc, _ := NewAccumulator(DefaultConfig())
	if err := acc.AddNoise(noise, uniformClean(w, h, newRand(11))); err != nil {
		t.Fatal(err)
	}
	s := acc.Stats()
	want := [Channels][2][MaxLag]float64{
		{{0.5, 0}, {0, 0}}, // R: horizontal [1,1]/2
		{{0, 0}, {0.5, 0}}, // G: vertical [1,1]/2
		{{0, 0}, {0, 0}},   // B: white
	}
	for c := 0; c < Channels; c++ {
		for l := 0; l < MaxLag; l++ {
			within(t, channelNames[c]+" horizontal correlation", s.CorrH[c][l], want[c][0][l], corrTol(n))
			within(t, channelNames[c]+" vertical correlation", s.CorrV[c][l], want[c][1][l], corrTol(n))
		}
	}
	// Mean over channels and directions at lag 1: (0.5 + 0.5) / 6.
	within(t, "mean lag-1 correlation", s.CorrMean(1), 1.0/6, corrTol(n))
}

func TestAccumulatorSignalDependent(t *testing.T) {
	rng := newRand(12)
	const w, h = 512, 512
	a, b := 20.0, 2.0 // σ(I) = a·I + b grey levels
	clean := uniformClean(w, h, rng)
	noise := whiteNoise(w, h, 1, rng)
	for i, v := range clean.Pix {
		noise.Pix[i] *= float32((a*float64(v) + b) / 255)
	}
	acc, _ := NewAccumulator(DefaultConfig())
	if err := acc.Add(addPair(clean, noise), clean); err != nil {
		t.Fatal(err)
	}
	s := acc.Stats()
	edges := BinEdges(s.Config.Bins)
	for c := 0; c < Channels; c++ {
		for k, v := range s.BinStd[c] {
			want := closedFormBinStd(a, b, edges[k], edges[k+1])
			within(t, "signal-dependent std in bin (grey levels)", v, want, stdTol(want, s.BinCount[c][k]))
		}
	}
}

func TestAccumulatorMergeEqualsSequentialAdds(t *testing.T) {
	rng := newRand(13)
	cfg := DefaultConfig()
	c1, c2 := uniformClean(64, 48, rng), uniformClean(80, 40, rng)
	d1, d2 := addPair(c1, whiteNoise(64, 48, 0.03, rng)), addPair(c2, whiteNoise(80, 40, 0.05, rng))
	seq, _ := NewAccumulator(cfg)
	seq.Add(d1, c1)
	seq.Add(d2, c2)
	a1, _ := NewAccumulator(cfg)
	a2, _ := NewAccumulator(cfg)
	a1.Add(d1, c1)
	a2.Add(d2, c2)
	if err := a1.Merge(a2); err != nil {
		t.Fatal(err)
	}
	s, m := seq.Stats(), a1.Stats()
	if s.Pairs != 2 || m.Pairs != 2 || s.Pixels != m.Pixels {
		t.Fatalf("pairs/pixels: sequential %d/%d, merged %d/%d", s.Pairs, s.Pixels, m.Pairs, m.Pixels)
	}
	for c := 0; c < Channels; c++ {
		within(t, "merged std", m.Std[c], s.Std[c], 1e-9)
		within(t, "merged lag-1 correlation", m.CorrH[c][0], s.CorrH[c][0], 1e-9)
		for i := range s.Hist[c] {
			if s.Hist[c][i] != m.Hist[c][i] {
				t.Fatalf("histograms differ at bin %d", i)
			}
		}
	}
	other, _ := NewAccumulator(Config{Bins: 8, HistLimit: 64, HistStep: 1, Epsilon: 1e-6})
	if err := a1.Merge(other); err == nil {
		t.Error("merging accumulators of different configs: no error")
	}
}

func TestAccumulatorErrors(t *testing.T) {
	if _, err := NewAccumulator(Config{Bins: 0, HistLimit: 64, HistStep: 1}); err == nil {
		t.Error("0 bins accepted")
	}
	if _, err := NewAccumulator(Config{Bins: 4, HistLimit: 64, HistStep: 0}); err == nil {
		t.Error("histogram step 0 accepted")
	}
	acc, _ := NewAccumulator(DefaultConfig())
	if err := acc.Add(images.New(4, 4), images.New(4, 5)); err == nil {
		t.Error("images of different sizes accepted")
	}
	s := acc.Stats()
	if !math.IsNaN(s.StdAll) || !math.IsNaN(s.CorrH[0][0]) {
		t.Errorf("empty accumulator: std %v corr %v, want NaN", s.StdAll, s.CorrH[0][0])
	}
}

func TestCompare(t *testing.T) {
	rng := newRand(14)
	const w, h = 256, 256
	clean := uniformClean(w, h, rng)
	measure := func(sigma float64) *Stats {
		acc, _ := NewAccumulator(DefaultConfig())
		acc.Add(addPair(clean, whiteNoise(w, h, sigma/255, rng)), clean)
		return acc.Stats()
	}
	real, synth := measure(8), measure(12)
	self, err := Compare(real, real)
	if err != nil {
		t.Fatal(err)
	}
	if self.KLAll != 0 || self.StdDiff != 0 || self.StdCurveRMSE != 0 || self.Corr1Diff != 0 {
		t.Errorf("comparing stats with themselves: %+v, want zero differences", self)
	}
	cmp, err := Compare(real, synth)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(3 * w * h)
	within(t, "std difference", cmp.StdDiff, 4, stdTol(8, n)+stdTol(12, n))
	// Every bin's std differs by 4: RMSE 4, each bin within its own noise.
	within(t, "std curve RMSE", cmp.StdCurveRMSE, 4, 0.3)
	within(t, "pooled KL", cmp.KLAll, gaussKL(8, 12), 0.01)
	for c := 0; c < Channels; c++ {
		within(t, "channel KL", cmp.KL[c], gaussKL(8, 12), 0.02)
	}
	other := *synth
	other.Config.Bins = 8
	if _, err := Compare(real, &other); err == nil {
		t.Error("comparing stats of different configs: no error")
	}
}
