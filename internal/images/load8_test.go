package images

import (
	"image"
	"image/color"
	"image/color/palette"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestLoad8MatchesLoad: Load8's 8-bit samples are Load's values times 255,
// for every kind of file it takes without conversion; the others (16-bit,
// paletted) come back as Load returns them.
func TestLoad8MatchesLoad(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h = 37, 23
	fill := func(set func(x, y int, v [4]uint8)) {
		for y := range h {
			for x := range w {
				set(x, y, [4]uint8{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256))})
			}
		}
	}
	rgb := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(func(x, y int, v [4]uint8) { rgb.Set(x, y, color.RGBA{v[0], v[1], v[2], 255}) })
	nrgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	fill(func(x, y int, v [4]uint8) { nrgba.Set(x, y, color.NRGBA{v[0], v[1], v[2], v[3]}) })
	gray := image.NewGray(image.Rect(0, 0, w, h))
	fill(func(x, y int, v [4]uint8) { gray.Set(x, y, color.Gray{v[0]}) })
	pal := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
	fill(func(x, y int, v [4]uint8) { pal.SetColorIndex(x, y, v[0]) })
	deep := image.NewRGBA64(image.Rect(0, 0, w, h))
	fill(func(x, y int, v [4]uint8) {
		deep.Set(x, y, color.RGBA64{uint16(v[0]) * 251, uint16(v[1]) * 13, 7, 65535})
	})
	cases := []struct {
		name  string
		img   image.Image
		jpeg  bool
		exact bool // read as 8-bit samples
	}{
		{"rgb.png", rgb, false, true},
		{"alpha.png", nrgba, false, true},
		{"grey.png", gray, false, true},
		{"colour.jpg", rgb, true, true},
		{"grey.jpg", gray, true, true},
		{"palette.png", pal, false, false},
		{"deep.png", deep, false, false},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			path := filepath.Join(dir, cs.name)
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if cs.jpeg {
				err = jpeg.Encode(f, cs.img, &jpeg.Options{Quality: 90})
			} else {
				err = png.Encode(f, cs.img)
			}
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			want, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			hwc, gw, gh, m, err := Load8(path)
			if err != nil {
				t.Fatal(err)
			}
			if !cs.exact {
				if hwc != nil || m == nil || !slices.Equal(m.Pix, want.Pix) {
					t.Fatalf("want Load's image back (8-bit samples: %v)", hwc != nil)
				}
				return
			}
			if hwc == nil || gw != w || gh != h {
				t.Fatalf("no 8-bit samples (%dx%d)", gw, gh)
			}
			got := New(w, h)
			for i := range w * h {
				for c := range Channels {
					got.Pix[c*w*h+i] = lut8[hwc[3*i+c]]
				}
			}
			if !slices.Equal(got.Pix, want.Pix) {
				t.Fatal("8-bit samples differ from Load's values")
			}
		})
	}
	// Premultiplied colours with alpha below 255 are un-premultiplied by
	// Load into values that are not 8-bit levels.
	rgba := image.NewRGBA(image.Rect(0, 0, 2, 1))
	rgba.Pix = []uint8{100, 50, 20, 200, 1, 2, 3, 255}
	if hwc, _, _ := (decoded{src: rgba}).rgb8(); hwc != nil {
		t.Error("translucent premultiplied pixels taken as 8-bit samples")
	}
}
