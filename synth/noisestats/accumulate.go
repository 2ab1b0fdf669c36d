package noisestats

import (
	"fmt"
	"math"

	"github.com/ludvae/ludvae/internal/images"
)

// Channels is the number of colour channels measured (RGB).
const Channels = images.Channels

// Accumulator pools the noise statistics of many (degraded, clean) image
// pairs. The zero value is not usable; call NewAccumulator. An Accumulator
// is not safe for concurrent use: give each goroutine its own and Merge
// them.
type Accumulator struct {
	cfg   Config
	k     int // histogram half-width in bins
	all   [Channels]moments
	bins  [Channels][]moments
	corrH [Channels][MaxLag]pearson
	corrV [Channels][MaxLag]pearson
	hist  [Channels][]int64
	pairs int
}

// NewAccumulator returns an empty Accumulator for cfg.
func NewAccumulator(cfg Config) (*Accumulator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Accumulator{cfg: cfg, k: cfg.HistBins() / 2}
	for c := range a.bins {
		a.bins[c] = make([]moments, cfg.Bins)
		a.hist[c] = make([]int64, cfg.HistBins())
	}
	return a, nil
}

// Add measures the noise degraded − clean of one image pair. The images
// must have the same size.
func (a *Accumulator) Add(degraded, clean *images.Image) error {
	noise, err := Noise(degraded, clean)
	if err != nil {
		return err
	}
	return a.AddNoise(noise, clean)
}

// AddNoise measures a noise image (degraded − clean, on the [0,1] scale)
// whose clean image is clean, of the same size.
func (a *Accumulator) AddNoise(noise, clean *images.Image) error {
	if noise.W != clean.W || noise.H != clean.H {
		return fmt.Errorf("noisestats: noise image is %dx%d, clean one %dx%d", noise.W, noise.H, clean.W, clean.H)
	}
	w, h := noise.W, noise.H
	for c := 0; c < Channels; c++ {
		np, cp := noise.Plane(c), clean.Plane(c)
		all, bins, hist := &a.all[c], a.bins[c], a.hist[c]
		for i, v := range np {
			n := 255 * float64(v)
			all.add(n)
			bins[binIndex(float64(cp[i]), len(bins))].add(n)
			hist[histIndex(n, a.cfg.HistStep, a.k)]++
		}
		for l := 1; l <= MaxLag; l++ {
			addLagged(&a.corrH[c][l-1], np, w, h, l, 0, 255)
			addLagged(&a.corrV[c][l-1], np, w, h, 0, l, 255)
		}
	}
	a.pairs++
	return nil
}

// Merge adds the measurements of o (made with the same Config) to a.
func (a *Accumulator) Merge(o *Accumulator) error {
	if a.cfg != o.cfg {
		return fmt.Errorf("noisestats: merging accumulators with different configs %+v and %+v", a.cfg, o.cfg)
	}
	for c := 0; c < Channels; c++ {
		a.all[c].merge(o.all[c])
		for b := range a.bins[c] {
			a.bins[c][b].merge(o.bins[c][b])
		}
		for l := range MaxLag {
			a.corrH[c][l].merge(o.corrH[c][l])
			a.corrV[c][l].merge(o.corrV[c][l])
		}
		for i := range a.hist[c] {
			a.hist[c][i] += o.hist[c][i]
		}
	}
	a.pairs += o.pairs
	return nil
}

// Stats returns the statistics of everything added so far.
func (a *Accumulator) Stats() *Stats {
	s := &Stats{Config: a.cfg, Pairs: a.pairs}
	var pooled moments
	for c := 0; c < Channels; c++ {
		pooled.merge(a.all[c])
		s.Pixels = a.all[c].n
		s.Mean[c] = a.all[c].mean()
		s.Std[c] = a.all[c].std()
		s.BinStd[c] = make([]float64, a.cfg.Bins)
		s.BinCount[c] = make([]int64, a.cfg.Bins)
		for b, m := range a.bins[c] {
			s.BinStd[c][b], s.BinCount[c][b] = m.std(), m.n
		}
		for l := range MaxLag {
			s.CorrH[c][l] = a.corrH[c][l].value()
			s.CorrV[c][l] = a.corrV[c][l].value()
		}
		s.Hist[c] = append([]int64(nil), a.hist[c]...)
	}
	s.StdAll = pooled.std()
	return s
}

// Stats are the noise statistics of a set of image pairs, on the 0–255
// scale. Channel-indexed arrays are R, G, B; undefined values (an empty
// bin, no pixels) are NaN. The json tags are the keys of `ludvae eval
// noise --json`, which writes NaN as null.
type Stats struct {
	Config Config `json:"-"`
	// Pairs is the number of image pairs measured and Pixels the number
	// of pixels per channel.
	Pairs  int   `json:"-"`
	Pixels int64 `json:"pixels_per_channel"`
	// Mean and Std are the mean and standard deviation of the noise per
	// channel; StdAll pools the three channels.
	Mean   [Channels]float64 `json:"mean"`
	Std    [Channels]float64 `json:"std"`
	StdAll float64           `json:"std_all"`
	// BinStd[c][b] is the noise std of channel c where the clean value of
	// that channel lies in intensity bin b (see BinEdges); BinCount[c][b]
	// the number of values it rests on.
	BinStd   [Channels][]float64 `json:"bin_std"`
	BinCount [Channels][]int64   `json:"bin_count"`
	// CorrH[c][k-1] and CorrV[c][k-1] are the Pearson correlations of the
	// noise with itself shifted by k pixels horizontally and vertically.
	CorrH [Channels][MaxLag]float64 `json:"corr_horizontal"`
	CorrV [Channels][MaxLag]float64 `json:"corr_vertical"`
	// Hist[c] is the histogram of the noise of channel c (see Config).
	Hist [Channels][]int64 `json:"-"`
}

// CorrMean is the correlation at lag (1..MaxLag) averaged over the three
// channels and both directions.
func (s *Stats) CorrMean(lag int) float64 {
	var sum float64
	for c := 0; c < Channels; c++ {
		sum += s.CorrH[c][lag-1] + s.CorrV[c][lag-1]
	}
	return sum / (2 * Channels)
}

// HistAll is the histogram of all channels together.
func (s *Stats) HistAll() []int64 {
	out := make([]int64, len(s.Hist[0]))
	for c := 0; c < Channels; c++ {
		for i, v := range s.Hist[c] {
			out[i] += v
		}
	}
	return out
}

// HistCenters returns the noise value (0–255 units) at the centre of each
// histogram bin.
func (c Config) HistCenters() []float64 {
	n := c.HistBins()
	k := n / 2
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i-k) * c.HistStep
	}
	return out
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
