package images

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// patternImage has a distinct value at every (x, y, c).
func patternImage(w, h int) *Image {
	m := New(w, h)
	for i := range m.Pix {
		m.Pix[i] = float32(i)
	}
	return m
}

// TestAugmentGeometry: each mode is the stated symmetry, checked pixel by
// pixel on a non-square image (independently of the reference file).
func TestAugmentGeometry(t *testing.T) {
	const w, h = 5, 3
	m := patternImage(w, h)
	src := map[int]func(i, j int) (x, y int){ // output row i, column j → source (x, y)
		0: func(i, j int) (int, int) { return j, i },
		1: func(i, j int) (int, int) { return i, j },
		2: func(i, j int) (int, int) { return j, h - 1 - i },
		3: func(i, j int) (int, int) { return i, h - 1 - j },
		4: func(i, j int) (int, int) { return w - 1 - j, i },
		5: func(i, j int) (int, int) { return w - 1 - i, j },
		6: func(i, j int) (int, int) { return w - 1 - j, h - 1 - i },
		7: func(i, j int) (int, int) { return w - 1 - i, h - 1 - j },
	}
	for mode := 0; mode < Modes; mode++ {
		a := Augment(m, mode)
		for i := 0; i < a.H; i++ {
			for j := 0; j < a.W; j++ {
				x, y := src[mode](i, j)
				for c := 0; c < 3; c++ {
					if a.At(j, i, c) != m.At(x, y, c) {
						t.Fatalf("mode %d: out(row %d, col %d) = %v, want source (%d,%d) %v", mode, i, j, a.At(j, i, c), x, y, m.At(x, y, c))
					}
				}
			}
		}
	}
}

// TestAugmentedCrop: AugmentedCrop equals Augment of Crop for every mode
// and some rectangles, including edges and odd sizes.
func TestAugmentedCrop(t *testing.T) {
	m := patternImage(13, 9)
	for _, r := range [][4]int{{0, 0, 13, 9}, {3, 2, 5, 4}, {12, 8, 1, 1}, {0, 4, 7, 5}, {6, 0, 7, 3}} {
		for mode := 0; mode < Modes; mode++ {
			want := Augment(m.Crop(r[0], r[1], r[2], r[3]), mode)
			got := AugmentedCrop(m, r[0], r[1], r[2], r[3], mode)
			if got.W != want.W || got.H != want.H {
				t.Fatalf("rect %v mode %d: %dx%d, want %dx%d", r, mode, got.W, got.H, want.W, want.H)
			}
			for i := range got.Pix {
				if got.Pix[i] != want.Pix[i] {
					t.Fatalf("rect %v mode %d: value %d differs", r, mode, i)
				}
			}
		}
	}
}

// TestRandomCrop: crops are size×size, equal to Crop at some position, and
// every position from 0 to W-size / H-size (inclusive) occurs.
func TestRandomCrop(t *testing.T) {
	m := patternImage(7, 5)
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[[2]int]bool{}
	for range 2000 {
		c := RandomCrop(m, 3, rng)
		if c.W != 3 || c.H != 3 {
			t.Fatalf("crop %dx%d", c.W, c.H)
		}
		// The pattern value encodes the position of the top-left pixel.
		v := int(c.At(0, 0, 0))
		x, y := v%7, v/7
		want := m.Crop(x, y, 3, 3)
		for i := range c.Pix {
			if c.Pix[i] != want.Pix[i] {
				t.Fatalf("crop is not Crop(%d,%d)", x, y)
			}
		}
		seen[[2]int{x, y}] = true
	}
	if len(seen) != 5*3 {
		t.Errorf("saw %d crop positions, want all 15", len(seen))
	}
	// Whole-image crop.
	if c := RandomCrop(m, 5, rng); c.W != 5 {
		t.Errorf("5×5 crop of 7×5: %dx%d", c.W, c.H)
	}
}

// TestRandomAugmentedCrop: the patch is one of the 8 augmentations of some
// crop, all modes occur, and the Into variant draws the same patch from the
// same random stream.
func TestRandomAugmentedCrop(t *testing.T) {
	m := patternImage(10, 8)
	rng1 := rand.New(rand.NewPCG(3, 4))
	rng2 := rand.New(rand.NewPCG(3, 4))
	dst := New(4, 4)
	modes := map[int]bool{}
	for range 500 {
		a := RandomAugmentedCrop(m, 4, rng1)
		b := RandomAugmentedCropInto(dst, m, rng2)
		found := -1
	search:
		for y := 0; y <= 4; y++ {
			for x := 0; x <= 6; x++ {
				for mode := 0; mode < Modes; mode++ {
					if equalPix(AugmentedCrop(m, x, y, 4, 4, mode), a) {
						found = mode
						break search
					}
				}
			}
		}
		if found < 0 {
			t.Fatal("patch is no augmented crop of the image")
		}
		modes[found] = true
		if !equalPix(a, b) {
			t.Fatal("RandomAugmentedCropInto differs from RandomAugmentedCrop for the same stream")
		}
	}
	if len(modes) != Modes {
		t.Errorf("saw modes %v, want all 8", modes)
	}
}

func equalPix(a, b *Image) bool {
	if a.W != b.W || a.H != b.H {
		return false
	}
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			return false
		}
	}
	return true
}

// TestPanics: out-of-range crops and modes panic with a message instead of
// returning garbage.
func TestPanics(t *testing.T) {
	m := New(8, 6)
	rng := rand.New(rand.NewPCG(1, 1))
	for name, f := range map[string]func(){
		"crop outside":    func() { m.Crop(5, 0, 4, 4) },
		"negative crop":   func() { m.Crop(-1, 0, 2, 2) },
		"mode 8":          func() { Augment(m, 8) },
		"crop too big":    func() { RandomCrop(m, 7, rng) },
		"bad scale":       func() { Imresize(m, 0) },
		"At out of range": func() { m.At(8, 0, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkAugmentedCrops measures random 64×64 training patches with a
// random augmentation mode from four in-memory 512×512 images, on one
// goroutine and on all (b.RunParallel); "crops/s" is the throughput.
func BenchmarkAugmentedCrops(b *testing.B) {
	srcs := make([]*Image, 4)
	for i := range srcs {
		srcs[i] = patternImage(512, 512)
	}
	b.Run("single", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; b.Loop(); i++ {
			RandomAugmentedCrop(srcs[i%len(srcs)], 64, rng)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "crops/s")
	})
	b.Run("single-into", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		dst := New(64, 64)
		for i := 0; b.Loop(); i++ {
			RandomAugmentedCropInto(dst, srcs[i%len(srcs)], rng)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "crops/s")
	})
	b.Run("parallel", func(b *testing.B) {
		var seed atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(seed.Add(1), 7))
			for i := 0; pb.Next(); i++ {
				RandomAugmentedCrop(srcs[i%len(srcs)], 64, rng)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "crops/s")
	})
	b.Run("crop-then-augment", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; b.Loop(); i++ {
			Augment(RandomCrop(srcs[i%len(srcs)], 64, rng), rng.IntN(Modes))
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "crops/s")
	})
}
