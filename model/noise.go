package model

import (
	"strconv"
	"strings"

	tb "github.com/ludvae/ludvae/torchbind"
)

// Noise supplies ε at every sampling site of the network: from the
// counter-based generator by default, or explicitly (to replay reference
// vectors). The site names are the reference files': "post_l" (posterior
// sample at level l), "prior_l" (prior sample), and "h" (the noise of the
// preprocessing h).
type Noise struct {
	Seed   uint64
	Stream uint64   // this call's stream (a training step, an image); sites get sub-streams
	Origin [4]int64 // global (n, c, y, x) of element [0,0,0,0], for tiles of a larger image
	Eps    map[string]*tb.Tensor
	// StreamAdd, when not nil, is one int64 on the device that the kernels
	// add to the sites' streams when they run: with Stream 0 and the value
	// 16·s, the noise of stream s, so that a recorded CUDA graph draws a
	// new step's noise once the value is written (train/graph.go).
	StreamAdd *tb.Tensor
}

// The sampling sites, named as in the reference vectors.
const hSite = "h"

func postSite(l int) string  { return "post_" + strconv.Itoa(l) }
func priorSite(l int) string { return "prior_" + strconv.Itoa(l) }

// siteIndex numbers the sampling sites, so that each has its own stream:
// h is 0, post_l is l, prior_l is MaxLevels+l.
func siteIndex(site string) uint64 {
	kind, level, _ := strings.Cut(site, "_")
	l, _ := strconv.Atoi(level)
	switch kind {
	case "post":
		return uint64(l)
	case "prior":
		return uint64(MaxLevels + l)
	}
	return 0
}

// StreamStride is the stream distance of consecutive Noise.Stream values:
// each has 16 sub-streams for its sites.
const StreamStride = 16

// key is the counter-generator key of a site.
func (n Noise) key(site string) tb.NoiseKey {
	return tb.NoiseKey{Seed: n.Seed, Stream: n.Stream*StreamStride + siteIndex(site), Origin: n.Origin, StreamAdd: n.StreamAdd}
}

// eps returns the explicit ε of a site (rows picked by idx when not nil), or
// nil to let the kernel draw it from the site's key.
func (n Noise) eps(site string, idx *tb.Tensor) *tb.Tensor {
	e, ok := n.Eps[site]
	if !ok {
		return nil
	}
	if idx != nil {
		return e.IndexSelect(0, idx)
	}
	return e
}

// sample draws z = (μ + e^{log σ}·ε)·scale at a site through the fused kernel.
func (n Noise) sample(site string, mean, logSigma, scale, idx *tb.Tensor) *tb.Tensor {
	return tb.Reparameterize(mean, logSigma, scale, n.eps(site, idx), n.key(site))
}

// normal returns the standard normal ε of a site with the given shape.
func (n Noise) normal(site string, shape []int64, o tb.Options) *tb.Tensor {
	if e := n.eps(site, nil); e != nil {
		return e
	}
	return tb.Normal(shape, o, n.key(site))
}
