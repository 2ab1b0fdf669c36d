// Package limits holds the upper bounds of ludvae's size-like flags, each
// derived from what the flag would make the command allocate, so that a
// mistyped value is refused with a message naming the flag, the limit and
// why, before any allocation, instead of ending in Go's "out of memory"
// crash or a process that grows until the kernel kills it.
package limits

import (
	"fmt"
	"math"
)

const (
	// MaxPixels is the most pixels (width × height) an image file may
	// declare: 2^28, 3 GiB as the float32 RGB planes images are decoded
	// to (768 MiB as 8-bit RGB). internal/images refuses larger ones.
	MaxPixels = 1 << 28

	// MaxSide is the side of the largest square image MaxPixels allows,
	// 16384: no crop, tile or kernel needs to be larger than that.
	MaxSide = 1 << 14

	// MaxDownscale is the largest downscale (or super-resolution) factor:
	// MaxSide/8, which still leaves the largest image 8 pixels, the
	// smallest crop training takes.
	MaxDownscale = MaxSide / 8

	// MaxFilters bounds a network's feature width: the paper uses 64, and
	// 4096 already gives 3×3 convolutions of 151 M weights each.
	MaxFilters = 4096

	// MaxLayers bounds DnCNN's depth (KAIR uses 17 or 20).
	MaxLayers = 1024

	// MaxBatch bounds the crops of one step.
	MaxBatch = 1 << 16

	// MaxTensorBytes bounds the largest tensor a flag combination asks for
	// (one feature map of a batch: batch × filters × side² float32s): 16
	// GiB, more than any accelerator this runs on holds beside the rest.
	MaxTensorBytes = 16 << 30

	// MaxPairs bounds a synthesis run's pairs (images × --samples): its
	// plan keeps one record of about 250 bytes per pair in memory, 256 MiB
	// at this bound.
	MaxPairs = 1 << 20

	// MaxShards bounds --shard I/N and --shards: --merge reads one
	// manifest per shard and keeps a list of the missing ones.
	MaxShards = 1 << 16

	// MaxLowPass bounds the σ of eval's --lowpass: its kernel has
	// 2⌈3σ⌉+1 taps, and one wider than twice the largest image side
	// (MaxSide) blurs every image to its mean.
	MaxLowPass = float64(MaxSide / 3)
)

// Int refuses v above max for flag, saying why the limit is there.
func Int(flag string, v, max int, why string) error {
	if v > max {
		return fmt.Errorf("%s %d: at most %d (%s)", flag, v, max, why)
	}
	return nil
}

// Tensor refuses a tensor of the given float32 elements, asked for by the
// flags said in what, above MaxTensorBytes.
func Tensor(what string, elements float64) error {
	if b := 4 * elements; b > MaxTensorBytes || math.IsNaN(b) {
		return fmt.Errorf("%s: one feature map would take %.0f GiB, at most %d GiB; give smaller values", what, b/(1<<30), MaxTensorBytes>>30)
	}
	return nil
}
