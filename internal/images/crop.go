package images

import (
	"fmt"
	"math/rand/v2"
)

// RandomCrop returns a size×size crop of m at a uniformly random position
// (KAIR's random.randint(0, max(0, H - size)) for the top and likewise for
// the left edge). It panics if m is smaller than size on either side.
func RandomCrop(m *Image, size int, rng *rand.Rand) *Image {
	x, y := randomOrigin(m, size, rng)
	return m.Crop(x, y, size, size)
}

// RandomAugmentedCrop returns a size×size crop of m at a uniformly random
// position, transformed by a uniformly random Augment mode (0..7): the
// training patch of LUD-VAE. It is one pass over the patch's pixels. It
// panics if m is smaller than size on either side.
func RandomAugmentedCrop(m *Image, size int, rng *rand.Rand) *Image {
	x, y := randomOrigin(m, size, rng)
	return AugmentedCrop(m, x, y, size, size, rng.IntN(Modes))
}

// RandomAugmentedCropInto is RandomAugmentedCrop writing into dst, which
// must be dst.W×dst.H = size×size, to avoid an allocation per patch.
func RandomAugmentedCropInto(dst, m *Image, rng *rand.Rand) *Image {
	if dst.W != dst.H || len(dst.Pix) != Channels*dst.W*dst.H {
		panic(fmt.Sprintf("images: RandomAugmentedCropInto: destination %dx%d is not a square RGB image", dst.W, dst.H))
	}
	size := dst.W
	x, y := randomOrigin(m, size, rng)
	return augmentedCropInto(dst, m, x, y, size, size, rng.IntN(Modes))
}

func randomOrigin(m *Image, size int, rng *rand.Rand) (x, y int) {
	return RandomOrigin(m.W, m.H, size, rng)
}

// RandomOrigin draws the top-left corner of a size×size crop of a w×h
// image as RandomCrop does (KAIR's random.randint(0, max(0, H - size)) for
// the top, then the left edge): any store of pixels that draws through it
// crops where the decoded image would. It panics if the image is smaller
// than size on either side.
func RandomOrigin(w, h, size int, rng *rand.Rand) (x, y int) {
	if size < 0 || w < size || h < size {
		panic(fmt.Sprintf("images: random %dx%d crop from a %dx%d image", size, size, w, h))
	}
	// Top first, as KAIR draws rnd_h before rnd_w.
	y = rng.IntN(h - size + 1)
	x = rng.IntN(w - size + 1)
	return x, y
}
