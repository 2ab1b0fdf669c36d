package main

import (
	"fmt"
	"math"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/synth/noisestats"
)

// fieldScores holds, per source and image, DANet's AKLD and NAFlow's KLD
// of the source's noise against the real noise of the same image. They are
// per-image quantities averaged over images (not pooled like the other
// statistics), so each image's value is kept and averaged in name order:
// the mean does not depend on which worker measured what. Source 0, the
// real noise itself, is not measured.
type fieldScores [][]noisestats.Field

func newFieldScores(sources, n int) fieldScores {
	f := make(fieldScores, sources)
	for s := 1; s < sources; s++ {
		f[s] = make([]noisestats.Field, n)
	}
	return f
}

// measure scores image i: noises[s] is source s's noise (degraded −
// clean), noises[0] the real one; paths name the files in errors.
func (f fieldScores) measure(i int, noises []*images.Image, paths []string) error {
	for s := 1; s < len(noises); s++ {
		m, err := noisestats.MeasureField(noises[0], noises[s])
		if err != nil {
			return fmt.Errorf("%s against %s: %w", paths[s], paths[0], err)
		}
		f[s][i] = m
	}
	return nil
}

// means returns the average over images per source (NaN for the real one).
func (f fieldScores) means() []noisestats.Field {
	out := make([]noisestats.Field, len(f))
	out[0] = noisestats.Field{AKLD: math.NaN(), KLD: math.NaN()}
	for s := 1; s < len(f); s++ {
		out[s] = noisestats.MeanField(f[s])
	}
	return out
}
