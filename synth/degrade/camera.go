package degrade

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ludvae/ludvae/internal/images"
)

// Camera imitates a phone photo at high ISO, in three steps:
//
//  1. Poisson–Gaussian-like, signal-dependent noise: channel c at clean
//     intensity I ∈ [0,1] gets Gaussian noise of variance
//     σ²_c(I) = Shot[c]·I + Read[c] (shot noise grows with the signal,
//     read noise is the floor).
//  2. Spatially and cross-channel correlated noise, as demosaicing and
//     denoising in a camera pipeline leave it: the unit-variance noise
//     field is white noise filtered by the separable 3×3 kernel
//     [s, 1, s] ⊗ [s, 1, s] (s = Spread) scaled to unit energy, so the
//     variance stays σ² while neighbours along either axis correlate by
//     2s/(1+2s²) at lag 1 and s²/(1+2s²) at lag 2. Channels share a
//     common component so their noise correlates by ChannelCorr.
//  3. Clipping to [0,1] and a JPEG round trip (Go's image/jpeg: 4:2:0
//     chroma subsampling, standard tables scaled to JPEGQuality).
//
// The noise field is computed on a frame one pixel larger on every side
// and filtered 'valid', so there is no border effect.
type Camera struct {
	// Shot[c] and Read[c] give channel c's noise variance Shot·I + Read
	// ([0,1] scale, I the clean value clamped to [0,1]).
	Shot, Read [images.Channels]float64
	// Spread is the off-centre tap s of the correlation kernel [s, 1, s]
	// (0 gives white noise).
	Spread float64
	// ChannelCorr is the correlation of the noise between any two
	// channels, in [0,1).
	ChannelCorr float64
	// JPEGQuality is the JPEG quality, 1..100; 0 skips compression.
	JPEGQuality int
}

// DefaultCamera returns the demo's camera: variances that put the noise at
// about 5 grey levels in the shadows and 15–25 in the highlights (green
// lowest, as with twice the green photosites of a Bayer sensor; blue
// highest, as with its larger white-balance gain), neighbour correlation
// 2/3 (Spread 0.5), channel correlation 0.3 and JPEG quality 80.
func DefaultCamera() Camera {
	return Camera{
		Shot:        [3]float64{0.0080, 0.0060, 0.0095},
		Read:        [3]float64{0.00035, 0.00025, 0.00045},
		Spread:      0.5,
		ChannelCorr: 0.3,
		JPEGQuality: 80,
	}
}

// Validate reports parameters Apply cannot use.
func (c Camera) Validate() error {
	for ch := range c.Shot {
		if !(c.Shot[ch] >= 0) || !(c.Read[ch] >= 0) || math.IsInf(c.Shot[ch]+c.Read[ch], 0) {
			return fmt.Errorf("degrade: camera channel %d has shot %v and read %v (need finite values >= 0)", ch, c.Shot[ch], c.Read[ch])
		}
	}
	switch {
	case !(c.Spread >= 0) || math.IsInf(c.Spread, 0):
		return fmt.Errorf("degrade: camera spread %v (need a finite value >= 0)", c.Spread)
	case !(c.ChannelCorr >= 0 && c.ChannelCorr < 1):
		return fmt.Errorf("degrade: camera channel correlation %v (need 0 <= value < 1)", c.ChannelCorr)
	case c.JPEGQuality < 0 || c.JPEGQuality > 100:
		return fmt.Errorf("degrade: JPEG quality %d (need 1..100, or 0 for none)", c.JPEGQuality)
	}
	return nil
}

// String describes c.
func (c Camera) String() string {
	return fmt.Sprintf("camera(shot=%v, read=%v, spread=%g, channel-corr=%g, jpeg=%d)", c.Shot, c.Read, c.Spread, c.ChannelCorr, c.JPEGQuality)
}

// NeighbourCorrelation is the correlation of the noise (before clipping and
// JPEG) between horizontally or vertically adjacent pixels (lag 1) and
// pixels two apart (lag 2): 2s/(1+2s²) and s²/(1+2s²) for s = Spread.
func (c Camera) NeighbourCorrelation() (lag1, lag2 float64) {
	s := c.Spread
	return 2 * s / (1 + 2*s*s), s * s / (1 + 2*s*s)
}

// Apply returns the camera-degraded copy of img. The random draws are, in
// order: the shared field (when ChannelCorr > 0), then the R, G and B
// fields, each (W+2)·(H+2) rng.NormFloat64 values row-major. Invalid
// parameters (Validate) are an error, drawn nothing.
func (c Camera) Apply(img *images.Image, rng *rand.Rand) (*images.Image, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	w, h := img.W, img.H
	fw, fh := w+2, h+2
	draw := func() []float32 {
		f := make([]float32, fw*fh)
		for i := range f {
			f[i] = float32(rng.NormFloat64())
		}
		return f
	}
	var shared []float32
	if c.ChannelCorr > 0 {
		shared = draw()
	}
	own, common := float32(math.Sqrt(1-c.ChannelCorr)), float32(math.Sqrt(c.ChannelCorr))
	out := images.New(w, h)
	tmp := make([]float32, w*fh)
	for ch := 0; ch < images.Channels; ch++ {
		field := draw()
		if shared != nil {
			for i := range field {
				field[i] = own*field[i] + common*shared[i]
			}
		}
		noise := filter3(field, tmp, fw, fh, c.Spread)
		src, dst := img.Plane(ch), out.Plane(ch)
		a, b := c.Shot[ch], c.Read[ch]
		for i, v := range src {
			I := min(max(float64(v), 0), 1)
			dst[i] = v + float32(math.Sqrt(a*I+b))*noise[i]
		}
	}
	clip01(out)
	if c.JPEGQuality > 0 {
		return JPEGRoundTrip(out, c.JPEGQuality)
	}
	return out, nil
}

// filter3 filters the fw×fh field with [s, 1, s]/sqrt(1+2s²) along rows
// and then columns, 'valid' (no padding): the result is (fw−2)×(fh−2) and
// has the field's variance if the field is white. tmp holds (fw−2)·fh
// values.
func filter3(field, tmp []float32, fw, fh int, s float64) []float32 {
	w, h := fw-2, fh-2
	n := float32(1 / math.Sqrt(1+2*s*s))
	side, centre := float32(s)*n, n
	for y := 0; y < fh; y++ {
		row := field[y*fw : y*fw+fw]
		t := tmp[y*w : y*w+w]
		for x := range t {
			t[x] = side*row[x] + centre*row[x+1] + side*row[x+2]
		}
	}
	out := make([]float32, w*h)
	for y := 0; y < h; y++ {
		r0, r1, r2 := tmp[y*w:y*w+w], tmp[(y+1)*w:(y+1)*w+w], tmp[(y+2)*w:(y+2)*w+w]
		o := out[y*w : y*w+w]
		for x := range o {
			o[x] = side*r0[x] + centre*r1[x] + side*r2[x]
		}
	}
	return out
}
