package model

import (
	"fmt"
	"strconv"

	tb "github.com/ludvae/ludvae/torchbind"
)

// Noise supplies ε at every sampling site of the network: from the
// counter-based generator by default, or explicitly (Eps, to replay
// reference vectors).
type Noise struct {
	Seed   uint64
	Stream uint64   // this call's stream (a training step, an image); sites get sub-streams
	Origin [4]int64 // global (n, c, y, x) of element [0,0,0,0], for tiles of a larger image
	// SubsetRow replaces Origin's row at the posterior sites, which draw
	// only the degraded rows, numbered among themselves: a data-parallel
	// rank's share of a batch sets it to the count of degraded rows before
	// its own, so each sample's noise is that of the whole batch's run.
	SubsetRow int64
	Eps       map[Site]*tb.Tensor
	// StreamAdd, when not nil, is one int64 on the device that the kernels
	// add to the sites' streams when they run: with Stream 0 and the value
	// 16·s, the noise of stream s, so that a recorded CUDA graph draws a
	// new step's noise once the value is written (train/graph.go).
	StreamAdd *tb.Tensor
	// Rows, when not nil, gives each row of the batch noise of its own:
	// row i draws exactly what a batch of one draws under Rows[i] (its
	// Seed, Stream and Origin), so that tiles of an image at different
	// places run through the network as one batch and draw the noise each
	// draws alone. Generation only (a posterior site's subset is refused).
	Rows []Noise
}

// Site is a sampling site of the network. Its value is its sub-stream
// (Noise.Stream·StreamStride + Site), so each site draws its own noise:
// HSite is 0, PostSite(l) is l, PriorSite(l) is MaxLevels+l.
type Site uint8

// HSite is the noise of the preprocessing h(x) = x + σ·ε.
const HSite Site = 0

// PostSite is the posterior sample at level l (the training pass).
func PostSite(l int) Site { return Site(l) }

// PriorSite is the prior sample at level l (generation).
func PriorSite(l int) Site { return Site(MaxLevels + l) }

// String is the site's name in the reference vectors: "h", "post_l",
// "prior_l".
func (s Site) String() string {
	switch {
	case s == HSite:
		return "h"
	case s <= MaxLevels:
		return "post_" + strconv.Itoa(int(s))
	default:
		return "prior_" + strconv.Itoa(int(s)-MaxLevels)
	}
}

// StreamStride is the stream distance of consecutive Noise.Stream values:
// each has 16 sub-streams for its sites.
const StreamStride = 16

// key is the counter-generator key of a site.
func (n Noise) key(site Site) tb.NoiseKey {
	o := n.Origin
	if site.isPost() {
		o[0] = n.SubsetRow
	}
	return tb.NoiseKey{Seed: n.Seed, Stream: n.Stream*StreamStride + uint64(site), Origin: o, StreamAdd: n.StreamAdd}
}

// isPost reports whether s is a posterior site, which draws the degraded
// rows only.
func (s Site) isPost() bool {
	return s != HSite && s <= MaxLevels
}

// eps returns the explicit ε of a site (rows picked by idx when not nil), or
// nil to let the kernel draw it from the site's key.
func (n Noise) eps(site Site, idx *tb.Tensor) *tb.Tensor {
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
func (n Noise) sample(site Site, mean, logSigma, scale, idx *tb.Tensor) *tb.Tensor {
	if n.Rows != nil {
		if idx != nil {
			panic(&tb.Error{Op: "sample", Msg: "per-row noise (Noise.Rows) draws for whole batches, not a subset of rows"})
		}
		like := mean
		if like == nil {
			like = logSigma
		}
		eps := n.rows(site, like.Shape(), like.Options())
		defer eps.Close()
		return tb.Reparameterize(mean, logSigma, scale, eps, n.key(site))
	}
	return tb.Reparameterize(mean, logSigma, scale, n.eps(site, idx), n.key(site))
}

// rows is the ε of a site for a batch of shape whose rows draw under
// n.Rows: each row's own draw, concatenated.
func (n Noise) rows(site Site, shape []int64, o tb.Options) *tb.Tensor {
	if int64(len(n.Rows)) != shape[0] {
		panic(&tb.Error{Op: "noise", Msg: fmt.Sprintf("%d rows of noise for a batch of %d", len(n.Rows), shape[0])})
	}
	one := append([]int64{1}, shape[1:]...)
	eps := make([]*tb.Tensor, len(n.Rows))
	for i, r := range n.Rows {
		eps[i] = r.normal(site, one, o)
	}
	defer closeAll(eps...)
	return tb.Cat(eps, 0)
}

// normal returns the standard normal ε of a site with the given shape.
func (n Noise) normal(site Site, shape []int64, o tb.Options) *tb.Tensor {
	if e := n.eps(site, nil); e != nil {
		return e
	}
	if n.Rows != nil {
		return n.rows(site, shape, o)
	}
	return tb.Normal(shape, o, n.key(site))
}
