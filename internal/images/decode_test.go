package images

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/jpeg"
	"image/png"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/tiff"

	"github.com/ludvae/ludvae/internal/testkit"
)

// pattern8 is a deterministic 8-bit colour for pixel (x, y); the committed
// WebP file testdata/pattern_9x7_lossless.webp holds exactly this pattern.
func pattern8(x, y int) [3]uint8 {
	return [3]uint8{uint8((x*37 + y*11) % 256), uint8((x*5 + y*71 + 13) % 256), uint8((x*x*3 + y*29 + 200) % 256)}
}

// pattern16 is a deterministic 16-bit value for pixel (x, y), channel c.
func pattern16(x, y, c int) uint16 { return uint16((x*7919 + y*104729 + c*15485863 + 12345) % 65536) }

func writeFile(t *testing.T, dir, name string, encode func(*bytes.Buffer) error) string {
	t.Helper()
	var buf bytes.Buffer
	if err := encode(&buf); err != nil {
		t.Fatalf("encoding %s: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkExact compares every pixel of m with want(x, y) (values in [0,1],
// compared for exact float32 equality).
func checkExact(t *testing.T, m *Image, w, h int, want func(x, y int) [3]float32) {
	t.Helper()
	if m.W != w || m.H != h {
		t.Fatalf("size %dx%d, want %dx%d", m.W, m.H, w, h)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := want(x, y)
			for c := 0; c < 3; c++ {
				if got := m.At(x, y, c); got != v[c] {
					t.Fatalf("pixel (%d,%d) channel %d = %v, want %v", x, y, c, got, v[c])
				}
			}
		}
	}
}

func f8(v uint8) float32   { return float32(v) / 255 }
func f16(v uint16) float32 { return float32(v) / 65535 }

// TestLoadLossless: every lossless source layout decodes to exactly v/255
// (8-bit) or v/65535 (16-bit), grey replicated, alpha dropped without
// premultiplying.
func TestLoadLossless(t *testing.T) {
	const w, h = 9, 7
	dir := t.TempDir()
	rgb := func(x, y int) [3]float32 { p := pattern8(x, y); return [3]float32{f8(p[0]), f8(p[1]), f8(p[2])} }
	pal := palette.Plan9
	tests := []struct {
		name   string
		encode func(*bytes.Buffer) error
		want   func(x, y int) [3]float32
	}{
		{"png-rgb8.png", func(b *bytes.Buffer) error {
			m := image.NewRGBA(image.Rect(0, 0, w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					p := pattern8(x, y)
					m.SetRGBA(x, y, color.RGBA{p[0], p[1], p[2], 255})
				}
			}
			return png.Encode(b, m)
		}, rgb},
		{"png-nrgba8-alpha.png", func(b *bytes.Buffer) error {
			m := image.NewNRGBA(image.Rect(0, 0, w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					p := pattern8(x, y)
					m.SetNRGBA(x, y, color.NRGBA{p[0], p[1], p[2], uint8(x * 30)}) // alpha 0 in column 0
				}
			}
			return png.Encode(b, m)
		}, rgb},
		{"png-gray16.png", func(b *bytes.Buffer) error {
			m := image.NewGray16(image.Rect(0, 0, w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					m.SetGray16(x, y, color.Gray16{pattern16(x, y, 0)})
				}
			}
			return png.Encode(b, m)
		}, func(x, y int) [3]float32 { v := f16(pattern16(x, y, 0)); return [3]float32{v, v, v} }},
		{"png-gray8.png", func(b *bytes.Buffer) error {
			m := image.NewGray(image.Rect(0, 0, w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					m.SetGray(x, y, color.Gray{pattern8(x, y)[0]})
				}
			}
			return png.Encode(b, m)
		}, func(x, y int) [3]float32 { v := f8(pattern8(x, y)[0]); return [3]float32{v, v, v} }},
		{"png-rgb16.png", func(b *bytes.Buffer) error {
			m := image.NewRGBA64(image.Rect(0, 0, w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					m.SetRGBA64(x, y, color.RGBA64{pattern16(x, y, 0), pattern16(x, y, 1), pattern16(x, y, 2), 0xffff})
				}
			}
			return png.Encode(b, m)
		}, func(x, y int) [3]float32 {
			return [3]float32{f16(pattern16(x, y, 0)), f16(pattern16(x, y, 1)), f16(pattern16(x, y, 2))}
		}},
		{"png-nrgba16-alpha.png", func(b *bytes.Buffer) error {
			m := image.NewNRGBA64(image.Rect(0, 0, w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					m.SetNRGBA64(x, y, color.NRGBA64{pattern16(x, y, 0), pattern16(x, y, 1), pattern16(x, y, 2), uint16(y * 9000)})
				}
			}
			return png.Encode(b, m)
		}, func(x, y int) [3]float32 {
			return [3]float32{f16(pattern16(x, y, 0)), f16(pattern16(x, y, 1)), f16(pattern16(x, y, 2))}
		}},
		{"png-paletted.png", func(b *bytes.Buffer) error {
			m := image.NewPaletted(image.Rect(0, 0, w, h), pal)
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					m.SetColorIndex(x, y, uint8(x*h+y))
				}
			}
			return png.Encode(b, m)
		}, func(x, y int) [3]float32 {
			c := pal[x*h+y].(color.RGBA)
			return [3]float32{f8(c.R), f8(c.G), f8(c.B)}
		}},
		{"tiff-rgb8.TIFF", func(b *bytes.Buffer) error {
			m := image.NewRGBA(image.Rect(0, 0, w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					p := pattern8(x, y)
					m.SetRGBA(x, y, color.RGBA{p[0], p[1], p[2], 255})
				}
			}
			return tiff.Encode(b, m, &tiff.Options{Compression: tiff.Deflate})
		}, rgb},
		{"tiff-nrgba8-alpha.tif", func(b *bytes.Buffer) error {
			m := image.NewNRGBA(image.Rect(0, 0, w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					p := pattern8(x, y)
					m.SetNRGBA(x, y, color.NRGBA{p[0], p[1], p[2], uint8(y * 40)})
				}
			}
			return tiff.Encode(b, m, nil)
		}, rgb},
		{"tiff-rgb16.tif", func(b *bytes.Buffer) error {
			m := image.NewRGBA64(image.Rect(0, 0, w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					m.SetRGBA64(x, y, color.RGBA64{pattern16(x, y, 0), pattern16(x, y, 1), pattern16(x, y, 2), 0xffff})
				}
			}
			return tiff.Encode(b, m, nil)
		}, func(x, y int) [3]float32 {
			return [3]float32{f16(pattern16(x, y, 0)), f16(pattern16(x, y, 1)), f16(pattern16(x, y, 2))}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, tc.name, tc.encode)
			m, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			// Alpha cases include alpha 0, where straight colour must survive.
			checkExact(t, m, w, h, tc.want)
		})
	}
}

// TestLoadWebP: the committed lossless WebP decodes exactly to pattern8.
func TestLoadWebP(t *testing.T) {
	m, err := Load("testdata/pattern_9x7_lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	checkExact(t, m, 9, 7, func(x, y int) [3]float32 {
		p := pattern8(x, y)
		return [3]float32{f8(p[0]), f8(p[1]), f8(p[2])}
	})
}

// pilScript is package jpegturbo's PIL helper (encode test JPEGs, decode
// them with PIL), run by testkit.Python, which has python3-pil.
const pilScript = "../jpegturbo/testdata/pil.py"

// TestLoadJPEG: JPEGs of every subsampling, grey, progressive and CMYK load
// as exactly PIL's 8-bit samples v/255, grey replicated (pil.py's files;
// package jpegturbo tests more kinds against PIL). Exact, because PIL here
// decodes with the same libjpeg62-turbo and settings.
func TestLoadJPEG(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command(testkit.Python, pilScript, "encode", dir).CombinedOutput(); err != nil {
		t.Fatalf("pil.py encode: %v\n%s", err, out)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	out, err := exec.Command(testkit.Python, append([]string{pilScript, "decode"}, paths...)...).Output()
	if err != nil || len(paths) == 0 {
		t.Fatalf("pil.py decode: %v (%d files)", err, len(paths))
	}
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var mode string
		var w, h int
		fmt.Sscan(line, &mode, &w, &h)
		ref, _ := os.ReadFile(paths[i] + ".raw")
		ch := map[string]int{"L": 1, "RGB": 3}[mode]
		m, err := Load(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		if ch == 0 || len(ref) != w*h*ch {
			t.Fatalf("%s: PIL says %q with %d bytes", paths[i], line, len(ref))
		}
		checkExact(t, m, w, h, func(x, y int) [3]float32 {
			p := ref[(y*w+x)*ch:]
			if ch == 1 {
				return [3]float32{f8(p[0]), f8(p[0]), f8(p[0])}
			}
			return [3]float32{f8(p[0]), f8(p[1]), f8(p[2])}
		})
	}
}

// goJPEG is a w×h 4:2:0 JPEG from Go's encoder.
func goJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// setJPEGSize rewrites the size the SOF0 header of data declares.
func setJPEGSize(t *testing.T, data []byte, w, h int) {
	t.Helper()
	i := bytes.Index(data, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	data[i+5], data[i+6], data[i+7], data[i+8] = byte(h>>8), byte(h), byte(w>>8), byte(w)
}

// TestLoadJPEGSizeFromHeader: a JPEG's size is checked from its header,
// before any pixel is decoded: a header declaring 60000×60000 (over
// MaxPixels) over 8×8 pixels of data is refused naming that size (decoding
// would first allocate 10 GiB), and too small an image is ErrTooSmall even
// when its data is truncated.
func TestLoadJPEGSizeFromHeader(t *testing.T) {
	dir := t.TempDir()
	bomb := goJPEG(t, 8, 8)
	setJPEGSize(t, bomb, 60000, 60000)
	bombPath := filepath.Join(dir, "bomb.jpg")
	os.WriteFile(bombPath, bomb, 0o644)
	_, err := Load(bombPath)
	if err == nil || !strings.Contains(err.Error(), "declares unsupported size 60000x60000") || !strings.Contains(err.Error(), bombPath) {
		t.Errorf("60000x60000 header: error %v, want the size refused naming the file", err)
	}
	small := goJPEG(t, 12, 10)
	sos := bytes.Index(small, []byte{0xff, 0xda}) // grey: a 10-byte scan header
	smallPath := filepath.Join(dir, "small.jpg")
	os.WriteFile(smallPath, small[:sos+12], 0o644) // and 2 bytes of pixel data
	_, skipped, err := LoadAll([]string{smallPath}, true, 16)
	if err != nil || len(skipped) != 1 || !errors.Is(skipped[0], ErrTooSmall) || !strings.Contains(skipped[0].Error(), "12x10") {
		t.Errorf("truncated 12x10 JPEG with minSize 16: skipped %v, err %v; want ErrTooSmall naming 12x10", skipped, err)
	}
}

// TestLoadJPEGBroken: truncated and corrupt JPEGs are *FileErrors naming
// the file and the reason, never a crash (libjpeg's default error handler
// would exit the process).
func TestLoadJPEGBroken(t *testing.T) {
	dir := t.TempDir()
	data := goJPEG(t, 64, 48)
	for _, tc := range []struct {
		name   string
		data   []byte
		reason string
	}{
		{"truncated.jpg", data[:len(data)-40], "truncated"},
		{"header-only.jpg", data[:20], "truncated"},
		{"soi-then-text.jpg", append([]byte{0xff, 0xd8}, "not a JPEG after all"...), "libjpeg"},
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, tc.data, 0o644)
		_, err := Load(p)
		var fe *FileError
		if !errors.As(err, &fe) || fe.Path != p || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: error %v, want a *FileError naming the file and %q", tc.name, err, tc.reason)
		}
	}
}

// TestFromImagePremultiplied: colours of premultiplied sources (image.RGBA,
// image.RGBA64, as TIFF with associated alpha decodes) are un-premultiplied.
func TestFromImagePremultiplied(t *testing.T) {
	m8 := image.NewRGBA(image.Rect(0, 0, 3, 1))
	m8.SetRGBA(0, 0, color.RGBA{50, 100, 10, 100}) // straight 0.5, 1, 0.1
	m8.SetRGBA(1, 0, color.RGBA{0, 0, 0, 0})
	m8.SetRGBA(2, 0, color.RGBA{7, 8, 9, 255})
	m16 := image.NewRGBA64(image.Rect(0, 0, 3, 1))
	m16.SetRGBA64(0, 0, color.RGBA64{5000, 10000, 1000, 10000})
	m16.SetRGBA64(1, 0, color.RGBA64{0, 0, 0, 0})
	m16.SetRGBA64(2, 0, color.RGBA64{7, 8, 9, 0xffff})
	for _, tc := range []struct {
		name string
		img  image.Image
		want [3][3]float32
	}{
		{"RGBA", m8, [3][3]float32{{0.5, 1, 0.1}, {0, 0, 0}, {f8(7), f8(8), f8(9)}}},
		{"RGBA64", m16, [3][3]float32{{0.5, 1, 0.1}, {0, 0, 0}, {f16(7), f16(8), f16(9)}}},
	} {
		m := FromImage(tc.img)
		for x := 0; x < 3; x++ {
			for c := 0; c < 3; c++ {
				if got := m.At(x, 0, c); got != tc.want[x][c] {
					t.Errorf("%s pixel %d channel %d = %v, want %v", tc.name, x, c, got, tc.want[x][c])
				}
			}
		}
	}
}

// TestFromImageSubImage: a sub-image (non-zero Bounds().Min) converts its
// own pixels.
func TestFromImageSubImage(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 9, 7))
	for y := 0; y < 7; y++ {
		for x := 0; x < 9; x++ {
			p := pattern8(x, y)
			src.SetNRGBA(x, y, color.NRGBA{p[0], p[1], p[2], 255})
		}
	}
	sub := src.SubImage(image.Rect(2, 3, 7, 6))
	checkExact(t, FromImage(sub), 5, 3, func(x, y int) [3]float32 {
		p := pattern8(x+2, y+3)
		return [3]float32{f8(p[0]), f8(p[1]), f8(p[2])}
	})
}

// TestLoadErrors: unreadable, corrupt and unknown files give a *FileError
// naming the path.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.png", func(b *bytes.Buffer) error { return png.Encode(b, image.NewGray(image.Rect(0, 0, 8, 8))) })
	data, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated.png")
	os.WriteFile(truncated, data[:len(data)-20], 0o644)
	garbage := filepath.Join(dir, "garbage.jpg")
	os.WriteFile(garbage, []byte("this is not an image at all"), 0o644)
	empty := filepath.Join(dir, "empty.webp")
	os.WriteFile(empty, nil, 0o644)
	for _, tc := range []struct{ path, reason string }{
		{filepath.Join(dir, "missing.png"), "no such file"},
		{truncated, "png"},
		{garbage, "unknown format"},
		{empty, "unknown format"},
		{dir, ""},
	} {
		_, err := Load(tc.path)
		if err == nil {
			t.Errorf("Load(%s) succeeded", tc.path)
			continue
		}
		var fe *FileError
		if !errors.As(err, &fe) || fe.Path != tc.path {
			t.Errorf("Load(%s) error %v is not a *FileError for that path", tc.path, err)
		}
		if !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("Load(%s) error %q does not name the path and %q", tc.path, err, tc.reason)
		}
	}
}

// BenchmarkLoadJPEG4000x3000: Load (libjpeg-turbo, then float planes)
// against what Load did before, Go's image/jpeg then FromImage, on a
// 4000×3000 4:2:0 quality-90 JPEG of a noisy gradient (fixed seed).
func BenchmarkLoadJPEG4000x3000(b *testing.B) {
	const w, h = 4000, 3000
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < len(src.Pix); i += 4 {
		x, y, n := (i/4)%w, (i/4)/w, uint8(rng.Intn(16))
		src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = uint8(x/16)+n, uint8(y/12)+n, uint8((x+y)/28)+n, 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "big.jpg")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("libjpeg-turbo", func(b *testing.B) {
		for b.Loop() {
			if _, err := Load(path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("image-jpeg", func(b *testing.B) {
		for b.Loop() {
			data, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			m, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			FromImage(m)
		}
	})
}
