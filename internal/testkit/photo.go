package testkit

import (
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// Photo is a generated RGB picture, channel-planar in [0,1]: the R, G and
// B planes of W·H values each, row-major. It is images.Image's layout, so
// &images.Image{W: p.W, H: p.H, Pix: p.Pix} is the same picture.
type Photo struct {
	W, H int
	Pix  []float32
}

// Noise is what SmoothPhoto adds to its colour field.
type Noise struct {
	Sigma float64 // standard deviation of each new draw (0–1 scale); 0: none
	Corr  float64 // weight of the previous pixel's noise along a row, AR(1); 0: white
}

// SmoothPhoto is a smooth colour field, 0.5 + 0.35·sin(fx·πx/w + φ + c)·
// cos(fy·πy/h) in channel c, with fx and fy uniform in [1, 5) and φ in
// [0, 6) drawn from rng in that order, plus noise (drawn next, plane by
// plane, row-major), clipped to [0,1]: two photos of one rng differ, and
// a noisy set differs from a clean one as two image domains do.
func SmoothPhoto(w, h int, rng *rand.Rand, noise Noise) Photo {
	p := Photo{W: w, H: h, Pix: make([]float32, 3*w*h)}
	fx, fy, ph := 1+rng.Float64()*4, 1+rng.Float64()*4, rng.Float64()*6
	for c := range 3 {
		prev := 0.0
		for y := range h {
			for x := range w {
				v := 0.5 + 0.35*math.Sin(fx*float64(x)/float64(w)*math.Pi+ph+float64(c))*math.Cos(fy*float64(y)/float64(h)*math.Pi)
				if noise.Sigma != 0 {
					prev = noise.Corr*prev + noise.Sigma*rng.NormFloat64()
					v += prev
				}
				p.Pix[(c*h+y)*w+x] = float32(min(max(v, 0), 1))
			}
		}
	}
	return p
}

// RandomPhoto has every value drawn uniformly among the 256 8-bit levels
// (k/255), so that an 8-bit PNG holds it exactly.
func RandomPhoto(w, h int, rng *rand.Rand) Photo {
	p := Photo{W: w, H: h, Pix: make([]float32, 3*w*h)}
	for i := range p.Pix {
		p.Pix[i] = float32(rng.IntN(256)) / 255
	}
	return p
}

// WritePNG writes p as an 8-bit RGB PNG at path, creating its folder,
// quantized as images.SavePNG quantizes (v·255 in float32, clipped, then
// rounded half to even): the file Load reads back is the same.
func WritePNG(t testing.TB, path string, p Photo) {
	t.Helper()
	if len(p.Pix) != 3*p.W*p.H {
		t.Fatalf("%s: a %dx%d photo with %d values", path, p.W, p.H, len(p.Pix))
	}
	img := image.NewRGBA(image.Rect(0, 0, p.W, p.H))
	n := p.W * p.H
	for i := range n {
		for c := range 3 {
			img.Pix[4*i+c] = level8(p.Pix[c*n+i])
		}
		img.Pix[4*i+3] = 0xff
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		t.Fatalf("%s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// level8 is v's 8-bit level: 0 for NaN and v <= 0, 255 for v >= 1.
func level8(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	return uint8(math.RoundToEven(float64(min(v, 1) * 255)))
}

// WritePhotos writes n photos, gen(0) … gen(n−1), as 8-bit PNGs into dir
// (created), named by the fmt pattern with the index ("img%03d.png"), and
// returns their paths in order.
func WritePhotos(t testing.TB, dir string, n int, pattern string, gen func(i int) Photo) []string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	paths := make([]string, n)
	for i := range n {
		paths[i] = filepath.Join(dir, fmt.Sprintf(pattern, i))
		WritePNG(t, paths[i], gen(i))
	}
	return paths
}
