package noisestats

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// uniformClean returns a w×h image of independent uniform values in [0,1).
func uniformClean(w, h int, rng *rand.Rand) *images.Image {
	m := images.New(w, h)
	for i := range m.Pix {
		m.Pix[i] = float32(rng.Float64())
	}
	return m
}

// whiteNoise returns a w×h image of independent N(0, sigma²) values.
func whiteNoise(w, h int, sigma float64, rng *rand.Rand) *images.Image {
	m := images.New(w, h)
	for i := range m.Pix {
		m.Pix[i] = float32(sigma * rng.NormFloat64())
	}
	return m
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.6g, want %.6g ± %.3g", what, got, want, tol)
	}
}
