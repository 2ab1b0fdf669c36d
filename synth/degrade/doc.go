// Package degrade applies hand-written degradations to clean images: the
// camera-like one that makes the demo's degraded domain ([Camera]:
// signal-dependent, spatially correlated noise followed by JPEG
// compression) and the additive white Gaussian noise baseline
// ([Gaussian]).
//
// Every degradation is deterministic given its *rand.Rand (math/rand/v2):
// the same image, parameters and generator state give the same output.
// Outputs are clipped to [0,1] and keep the input's size.
package degrade

import (
	"math/rand/v2"

	"github.com/ludvae/ludvae/internal/images"
)

// Degrader is a degradation of clean images.
type Degrader interface {
	// Apply returns a degraded copy of img (img is not modified), drawing
	// its randomness from rng; parameters that do not Validate are an
	// error, before any draw.
	Apply(img *images.Image, rng *rand.Rand) (*images.Image, error)
	// Validate reports parameters Apply cannot use.
	Validate() error
	// String describes the degradation and its parameters.
	String() string
}

// clip01 clamps every value of m to [0,1] in place (NaN becomes 0).
func clip01(m *images.Image) {
	for i, v := range m.Pix {
		if !(v > 0) {
			m.Pix[i] = 0
		} else if v > 1 {
			m.Pix[i] = 1
		}
	}
}
