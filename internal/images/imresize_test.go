package images

import (
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// TestImresizeSizes: the output is ceil(W*scale)×ceil(H*scale), as KAIR's
// math.ceil(in*scale).
func TestImresizeSizes(t *testing.T) {
	for _, tc := range []struct {
		w, h   int
		scale  float64
		ow, oh int
	}{
		{103, 97, 0.25, 26, 25},
		{103, 97, 1.0 / 3, 35, 33},
		{2040, 1356, 0.25, 510, 339},
		{10, 7, 2, 20, 14},
		{10, 7, 1.5, 15, 11},
		{64, 64, 1, 64, 64},
	} {
		got := Imresize(New(tc.w, tc.h), tc.scale)
		if got.W != tc.ow || got.H != tc.oh {
			t.Errorf("%dx%d ×%v: %dx%d, want %dx%d", tc.w, tc.h, tc.scale, got.W, got.H, tc.ow, tc.oh)
		}
	}
}

// TestImresizeProperties: weights sum to one (a constant image stays
// constant, within 1e-6) and scale 1 is the identity, for sizes and scales
// the reference does not cover, including tiny images where the kernel
// reaches past more than one reflection.
func TestImresizeProperties(t *testing.T) {
	for _, tc := range []struct {
		w, h  int
		scale float64
	}{{17, 11, 0.3}, {17, 11, 1.7}, {3, 2, 0.25}, {5, 4, 3}, {1, 1, 0.5}, {40, 30, 0.125}} {
		m := New(tc.w, tc.h)
		for c := 0; c < 3; c++ {
			for i := range m.Plane(c) {
				m.Plane(c)[i] = 0.2 + 0.3*float32(c)
			}
		}
		out := Imresize(m, tc.scale)
		for c := 0; c < 3; c++ {
			for _, v := range out.Plane(c) {
				if math.Abs(float64(v)-(0.2+0.3*float64(c))) > 1e-6 {
					t.Fatalf("%dx%d ×%v: constant %v became %v", tc.w, tc.h, tc.scale, 0.2+0.3*float64(c), v)
				}
			}
		}
	}
	m := patternImage(9, 6)
	if !equalPix(Imresize(m, 1), m) {
		t.Error("scale 1 is not the identity")
	}
}

// TestReflect: symmetric reflection repeats the edge sample.
func TestReflect(t *testing.T) {
	for _, tc := range [][3]int{{-1, 5, 0}, {-2, 5, 1}, {5, 5, 4}, {6, 5, 3}, {-6, 5, 4}, {10, 5, 0}, {2, 5, 2}, {-3, 1, 0}} {
		if got := reflect(tc[0], tc[1]); got != tc[2] {
			t.Errorf("reflect(%d, %d) = %d, want %d", tc[0], tc[1], got, tc[2])
		}
	}
}

// BenchmarkImresize times the SR preprocessing step, a 2040×1356 (DIV2K
// sized) image downscaled ×1/4, and the ×2 upscale of a 510×339 image.
func BenchmarkImresize(b *testing.B) {
	for _, tc := range []struct {
		name  string
		w, h  int
		scale float64
	}{{"2040x1356-x1_4", 2040, 1356, 0.25}, {"510x339-x2", 510, 339, 2}} {
		m := patternImage(tc.w, tc.h)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				Imresize(m, tc.scale)
			}
		})
	}
}

// TestDownscale8 is the LR image the way the authors' data has it: the
// bicubic result written as an 8-bit PNG and read back (a sharp edge makes
// bicubic overshoot [0,1], which the PNG clips).
func TestDownscale8(t *testing.T) {
	m := New(96, 80)
	for c := range Channels {
		for y := range m.H {
			for x := range m.W {
				m.Set(x, y, c, float32((x/24+y/20+c)%2)) // black and white blocks
			}
		}
	}
	raw := Imresize(m, 0.25)
	lo, hi := float32(0), float32(1)
	for _, v := range raw.Pix {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo >= 0 || hi <= 1 {
		t.Fatalf("no overshoot to clip (range %g..%g): the test cannot tell", lo, hi)
	}
	path := filepath.Join(t.TempDir(), "lr.png")
	if err := SavePNG(path, raw, 8); err != nil {
		t.Fatal(err)
	}
	want, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := Downscale8(m, 4)
	if got.W != want.W || got.H != want.H || !slices.Equal(got.Pix, want.Pix) {
		t.Errorf("Downscale8 differs from the 8-bit PNG of the bicubic result")
	}
}
