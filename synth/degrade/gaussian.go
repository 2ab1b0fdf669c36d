package degrade

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ludvae/ludvae/internal/images"
)

// Gaussian is additive white Gaussian noise (AWGN), the usual synthetic
// baseline: every value of every channel gets independent N(0, (Sigma/255)²)
// noise, then the image is clipped to [0,1].
type Gaussian struct {
	// Sigma is the noise standard deviation on the 0–255 scale.
	Sigma float64
}

// Validate reports a negative or non-finite Sigma.
func (g Gaussian) Validate() error {
	if !(g.Sigma >= 0) || math.IsInf(g.Sigma, 0) {
		return fmt.Errorf("degrade: Gaussian sigma %v (need a finite value >= 0)", g.Sigma)
	}
	return nil
}

// String describes g.
func (g Gaussian) String() string { return fmt.Sprintf("gaussian(sigma=%g)", g.Sigma) }

// Apply returns img plus white Gaussian noise, clipped to [0,1]. The noise
// is drawn plane by plane (R, G, B), row-major, one rng.NormFloat64 per
// value. Invalid parameters (Validate) are an error, drawn nothing.
func (g Gaussian) Apply(img *images.Image, rng *rand.Rand) (*images.Image, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	out := img.Clone()
	s := g.Sigma / 255
	for i, v := range out.Pix {
		out.Pix[i] = v + float32(s*rng.NormFloat64())
	}
	clip01(out)
	return out, nil
}
