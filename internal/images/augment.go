package images

import "fmt"

// Modes is the number of augmentation modes (the 8 symmetries of the square).
const Modes = 8

// Augment returns the flip/rotation of m that KAIR's augment_img(img, mode)
// produces on an HWC array (np.rot90 turns counter-clockwise):
//
//	0 identity                      4 np.flipud(np.rot90(img, k=2))  (left-right flip)
//	1 np.flipud(np.rot90(img))      5 np.rot90(img)
//	  (transpose)                   6 np.rot90(img, k=2)
//	2 np.flipud(img)                7 np.flipud(np.rot90(img, k=3))
//	3 np.rot90(img, k=3)              (anti-transpose)
//
// Modes 1, 3, 5 and 7 swap width and height. It panics for a mode outside
// 0..7.
func Augment(m *Image, mode int) *Image {
	return AugmentedCrop(m, 0, 0, m.W, m.H, mode)
}

// AugmentedCrop returns Augment(m.Crop(x, y, w, h), mode) in a single pass
// over the pixels.
func AugmentedCrop(m *Image, x, y, w, h, mode int) *Image {
	ow, oh := augmentedSize(w, h, mode)
	return augmentedCropInto(New(ow, oh), m, x, y, w, h, mode)
}

// AugmentInto writes Augment(src, mode) into dst, whose size must already be
// the augmented one (src's, with width and height swapped for the odd
// modes), and returns dst.
func AugmentInto(dst, src *Image, mode int) *Image {
	if ow, oh := augmentedSize(src.W, src.H, mode); dst.W != ow || dst.H != oh || len(dst.Pix) != Channels*ow*oh {
		panic(fmt.Sprintf("images: AugmentInto: %dx%d destination for a %dx%d image in mode %d", dst.W, dst.H, src.W, src.H, mode))
	}
	return augmentedCropInto(dst, src, 0, 0, src.W, src.H, mode)
}

func augmentedSize(w, h, mode int) (int, int) {
	if mode&1 == 1 {
		return h, w
	}
	return w, h
}

// augmentedCropInto writes Augment(m.Crop(x, y, w, h), mode) into dst, whose
// size must already be the augmented one.
func augmentedCropInto(dst, m *Image, x, y, w, h, mode int) *Image {
	if x < 0 || y < 0 || w < 0 || h < 0 || x > m.W-w || y > m.H-h {
		panic(fmt.Sprintf("images: crop %dx%d at (%d,%d) outside %dx%d image", w, h, x, y, m.W, m.H))
	}
	// Output pixel (i = row, j = column) reads source (crop) pixel
	// base + i*di + j*dj, where the crop's pixel (r, c) is at r*W + c in
	// the source plane, offset by the crop origin.
	W := m.W
	var base, di, dj int
	last := func(n int) int { return n - 1 }
	switch mode {
	case 0: // out[i][j] = in[i][j]
		base, di, dj = 0, W, 1
	case 1: // out[i][j] = in[j][i]
		base, di, dj = 0, 1, W
	case 2: // out[i][j] = in[h-1-i][j]
		base, di, dj = last(h)*W, -W, 1
	case 3: // out[i][j] = in[h-1-j][i]
		base, di, dj = last(h)*W, 1, -W
	case 4: // out[i][j] = in[i][w-1-j]
		base, di, dj = last(w), W, -1
	case 5: // out[i][j] = in[j][w-1-i]
		base, di, dj = last(w), -1, W
	case 6: // out[i][j] = in[h-1-i][w-1-j]
		base, di, dj = last(h)*W+last(w), -W, -1
	case 7: // out[i][j] = in[h-1-j][w-1-i]
		base, di, dj = last(h)*W+last(w), -1, -W
	default:
		panic(fmt.Sprintf("images: augmentation mode %d outside 0..7", mode))
	}
	ow, oh := dst.W, dst.H
	if w == 0 || h == 0 {
		return dst
	}
	origin := y*W + x
	for c := 0; c < Channels; c++ {
		src, out := m.Plane(c), dst.Plane(c)
		if dj == 1 || dj == -1 {
			// Output rows read source rows: copy or reverse each row.
			for i := 0; i < oh; i++ {
				row := out[i*ow : (i+1)*ow]
				s := origin + base + i*di
				if dj == 1 {
					copy(row, src[s:s+ow])
					continue
				}
				seg := src[s-ow+1 : s+1]
				for j := range row {
					row[j] = seg[ow-1-j]
				}
			}
			continue
		}
		// Transposing modes: output columns read source rows. Work in
		// tile×tile blocks so that the source rows and output rows a block
		// touches stay in L1 however large the source plane is.
		const tile = 16
		for i0 := 0; i0 < oh; i0 += tile {
			i1 := min(i0+tile, oh)
			for j0 := 0; j0 < ow; j0 += tile {
				j1 := min(j0+tile, ow)
				for j := j0; j < j1; j++ {
					s := origin + base + j*dj
					for i := i0; i < i1; i++ {
						out[i*ow+j] = src[s+i*di]
					}
				}
			}
		}
	}
	return dst
}
