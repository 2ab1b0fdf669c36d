package jpegturbo

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
)

// pilRef is PIL's decoding of one file: its mode ("L" or "RGB") and samples.
type pilRef struct {
	mode string
	w, h int
	pix  []byte
}

// pilEncode writes PIL's test JPEGs (testdata/pil.py encode) into a new
// temporary folder and returns their paths.
func pilEncode(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command(testkit.Python, "testdata/pil.py", "encode", dir).CombinedOutput(); err != nil {
		t.Fatalf("pil.py encode: %v\n%s", err, out)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("pil.py encode wrote no JPEGs into %s (%v)", dir, err)
	}
	return paths
}

// pilDecode decodes paths with PIL (testdata/pil.py decode).
func pilDecode(t *testing.T, paths ...string) []pilRef {
	t.Helper()
	out, err := exec.Command(testkit.Python, append([]string{"testdata/pil.py", "decode"}, paths...)...).Output()
	if err != nil {
		t.Fatalf("pil.py decode: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(paths) {
		t.Fatalf("pil.py decode printed %d lines for %d files", len(lines), len(paths))
	}
	refs := make([]pilRef, len(paths))
	for i, p := range paths {
		r := &refs[i]
		if _, err := fmt.Sscan(lines[i], &r.mode, &r.w, &r.h); err != nil {
			t.Fatalf("pil.py decode line %q: %v", lines[i], err)
		}
		if r.pix, err = os.ReadFile(p + ".raw"); err != nil {
			t.Fatal(err)
		}
	}
	return refs
}

// maxDiff is the largest absolute difference between two sample slices of
// equal length, and how many samples differ.
func maxDiff(a, b []byte) (maxd, n int) {
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		if d > 0 {
			n++
		}
		maxd = max(maxd, d)
	}
	return maxd, n
}

// stdlibDiff is the largest difference between Go's image/jpeg decoding of
// path and ref, for the log (-1 where Go cannot decode the file).
func stdlibDiff(path string, ref pilRef) int {
	data, _ := os.ReadFile(path)
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return -1
	}
	ch := len(ref.pix) / (ref.w * ref.h)
	pix := make([]byte, 0, len(ref.pix))
	for y := 0; y < ref.h; y++ {
		for x := 0; x < ref.w; x++ {
			if ch == 1 {
				pix = append(pix, color.GrayModel.Convert(m.At(x, y)).(color.Gray).Y)
				continue
			}
			c := color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)
			pix = append(pix, c.R, c.G, c.B)
		}
	}
	d, _ := maxDiff(pix, ref.pix)
	return d
}

// TestMatchesPIL: every kind of JPEG decodes to exactly PIL's samples:
// PIL-encoded 4:4:4, 4:2:2 and 4:2:0 (odd sizes, so partial MCUs), grey,
// progressive and CMYK files, cjpeg-encoded 4:4:0, 4:1:1, RGB,
// arithmetic-coded and restart-marker files, and a YCCK file
// (testdata/README.md). The
// issue's bound is 1 level; we require 0, because PIL here decodes with the
// same library (Debian's python3-pil links libjpeg62-turbo) and the same
// settings, so any difference is a bug in how we call it.
func TestMatchesPIL(t *testing.T) {
	paths := pilEncode(t)
	committed, _ := filepath.Glob("testdata/*.jpg")
	tmp := t.TempDir()
	for _, p := range committed { // PIL's .raw output goes next to the file
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(tmp, filepath.Base(p))
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, dst)
	}
	refs := pilDecode(t, paths...)
	for i, p := range paths {
		name, ref := filepath.Base(p), refs[i]
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(data, nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		wantCh := map[string]int{"L": 1, "RGB": 3}[ref.mode]
		if m.Width != ref.w || m.Height != ref.h || m.Channels != wantCh || len(m.Pix) != len(ref.pix) {
			t.Errorf("%s: %dx%d×%d, PIL %s %dx%d", name, m.Width, m.Height, m.Channels, ref.mode, ref.w, ref.h)
			continue
		}
		d, n := maxDiff(m.Pix, ref.pix)
		t.Logf("%-28s %dx%d %-3s max |ours-PIL| %d (%d samples differ); Go image/jpeg: max %d", name, m.Width, m.Height, ref.mode, d, n, stdlibDiff(p, ref))
		if d != 0 {
			t.Errorf("%s: %d samples differ from PIL, by up to %d levels", name, n, d)
		}
	}
}

// TestCorruptLikePIL: flipped bits inside the entropy-coded data are
// decoded as PIL decodes them (libjpeg warns and resynchronizes; PIL and
// we ignore the warnings), not refused.
func TestCorruptLikePIL(t *testing.T) {
	for _, p := range pilEncode(t) {
		name := filepath.Base(p)
		if !strings.HasPrefix(name, "q90_420") {
			continue
		}
		data, _ := os.ReadFile(p)
		for i := len(data) / 2; i < len(data)/2+60; i += 7 {
			data[i] ^= 0x55
		}
		bad := p + ".corrupt.jpg"
		os.WriteFile(bad, data, 0o644)
		ref := pilDecode(t, bad)[0]
		m, err := Decode(data, nil)
		if err != nil {
			t.Errorf("%s with flipped bits: %v (PIL decodes it)", name, err)
			continue
		}
		if d, n := maxDiff(m.Pix, ref.pix); d != 0 {
			t.Errorf("%s with flipped bits: %d samples differ from PIL, by up to %d", name, n, d)
		}
	}
}

// TestTruncated: data cut anywhere — inside the header, inside the scan,
// or just before the final EOI marker — is an error wrapping ErrTruncated,
// as PIL refuses it ("image file is truncated"), for baseline and
// progressive files.
func TestTruncated(t *testing.T) {
	for _, p := range pilEncode(t) {
		name := filepath.Base(p)
		if name != "q90_420.jpg" && name != "q90_420_progressive.jpg" {
			continue
		}
		data, _ := os.ReadFile(p)
		for _, cut := range []int{2, 100, 300, len(data) / 2, len(data) - 2} {
			_, err := Decode(data[:cut], nil)
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("%s cut to %d of %d bytes: error %v, want ErrTruncated", name, cut, len(data), err)
			} else if !strings.Contains(err.Error(), "Premature end of JPEG file") {
				t.Errorf("%s cut to %d bytes: error %q lacks libjpeg's reason", name, cut, err)
			}
		}
	}
}

// TestGarbage: data that is not a JPEG, or a JPEG start followed by random
// bytes (fixed seed), gives an error, never a crash or an exit.
func TestGarbage(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	cases := map[string][]byte{
		"empty": nil,
		"text":  []byte("this is not an image at all"),
	}
	for i := 0; i < 20; i++ {
		b := make([]byte, 50+rng.Intn(2000))
		rng.Read(b)
		b[0], b[1] = 0xff, 0xd8
		cases[fmt.Sprintf("SOI+random#%d", i)] = b
	}
	for name, data := range cases {
		if m, err := Decode(data, nil); err == nil {
			t.Errorf("%s: decoded %dx%d, want an error", name, m.Width, m.Height)
		} else if !strings.Contains(err.Error(), "libjpeg") {
			t.Errorf("%s: error %q does not say which decoder failed", name, err)
		}
	}
	// Damaged headers (tables, frame, scan) may decode or fail, but must
	// return: 300 copies of a real file with 1-4 random header bytes set
	// (refused when they declare over 2^20 pixels).
	orig, err := os.ReadFile("testdata/q90_440.jpg")
	if err != nil {
		t.Fatal(err)
	}
	sos := bytes.Index(orig, []byte{0xff, 0xda}) + 14
	failed := 0
	for i := 0; i < 300; i++ {
		data := bytes.Clone(orig)
		for k := 0; k <= rng.Intn(4); k++ {
			data[2+rng.Intn(sos-2)] = byte(rng.Intn(256))
		}
		// A damaged frame header may declare up to 65500×65500.
		m, err := Decode(data, func(c Config) error {
			if c.Width*c.Height > 1<<20 {
				return errors.New("too big for the test")
			}
			return nil
		})
		switch {
		case err != nil:
			failed++
		case len(m.Pix) != m.Width*m.Height*m.Channels:
			t.Errorf("damaged header #%d: %dx%d×%d image with %d samples", i, m.Width, m.Height, m.Channels, len(m.Pix))
		}
	}
	t.Logf("damaged headers: %d of 300 refused, the rest decoded", failed)
}

// TestAcceptStopsDecoding: accept sees the header's size, colour space and
// mode, and its error is returned unchanged, before any pixel is decoded.
func TestAcceptStopsDecoding(t *testing.T) {
	want := map[string]Config{
		"q90_420.jpg":              {203, 151, 3, YCbCr, false},
		"q90_420_progressive.jpg":  {203, 151, 3, YCbCr, true},
		"q90_grey.jpg":             {203, 151, 1, Gray, false},
		"q90_cmyk.jpg":             {203, 151, 4, CMYK, false},
		"q75_420_640x480.jpg":      {640, 480, 3, YCbCr, false},
		"q90_grey_progressive.jpg": {203, 151, 1, Gray, true},
		"q90_ycck.jpg":             {61, 45, 4, YCCK, false},
		"q90_rgb.jpg":              {61, 45, 3, RGB, false},
		"q90_440_progressive.jpg":  {61, 45, 3, YCbCr, true},
	}
	committed, _ := filepath.Glob("testdata/*.jpg")
	tooBig := errors.New("too big")
	for _, p := range append(pilEncode(t), committed...) {
		name := filepath.Base(p)
		data, _ := os.ReadFile(p)
		var got Config
		_, err := Decode(data, func(c Config) error { got = c; return tooBig })
		if err != tooBig {
			t.Errorf("%s: error %v, want accept's own error", name, err)
		}
		if w, ok := want[name]; ok && got != w {
			t.Errorf("%s: accept saw %+v, want %+v", name, got, w)
		}
	}
}

// TestCMYKToRGB: the conversion equals Pillow's cmyk2rgb, computed here
// independently in floating point (n - v*n/255 rounded half up, n = 255-K,
// v the PIL-side value 255-s) over every K and channel value.
func TestCMYKToRGB(t *testing.T) {
	in := make([]byte, 0, 256*256*4)
	for k := 0; k < 256; k++ {
		for v := 0; v < 256; v++ {
			in = append(in, byte(v), byte(255-v), byte(v/2), byte(k))
		}
	}
	out := CMYKToRGB(in)
	for i := 0; i < len(in)/4; i++ {
		n := float64(in[4*i+3]) // 255 - K, K = 255 - s
		for c := 0; c < 3; c++ {
			v := float64(255 - in[4*i+c])
			want := n - float64(int(v*n/255+0.5))
			if got := float64(out[3*i+c]); got != want {
				t.Fatalf("CMYK sample %v → channel %d = %v, want %v", in[4*i:4*i+4], c, got, want)
			}
		}
	}
}

// photoJPEG is a 4000×3000 4:2:0 quality-90 JPEG of a smooth, noisy
// pattern (fixed seed), encoded by Go's image/jpeg, for the benchmarks.
func photoJPEG(b *testing.B) []byte {
	b.Helper()
	const w, h = 4000, 3000
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewSource(3))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := uint8(rng.Intn(16))
			m.SetRGBA(x, y, color.RGBA{uint8(x/16) + n, uint8(y/12) + n, uint8((x+y)/28) + n, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkDecodeJPEG4000x3000: libjpeg-turbo against Go's image/jpeg on the
// same file. Go's time stops at its YCbCr planes (no RGB conversion), which
// favours it slightly.
func BenchmarkDecodeJPEG4000x3000(b *testing.B) {
	data := photoJPEG(b)
	b.Run("libjpeg-turbo", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decode(data, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("image-jpeg", func(b *testing.B) {
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestConcurrent: decoders in parallel goroutines (as images.LoadAll runs
// them) share no state: each result equals the sequential one.
func TestConcurrent(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.jpg")
	want := make([][]byte, len(paths))
	for i, p := range paths {
		data, _ := os.ReadFile(p)
		m, err := Decode(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = m.Pix
	}
	errs := make(chan error, 8*len(paths))
	for g := 0; g < 8; g++ {
		go func() {
			for i, p := range paths {
				data, _ := os.ReadFile(p)
				m, err := Decode(data, nil)
				if err == nil && !bytes.Equal(m.Pix, want[i]) {
					err = fmt.Errorf("%s: concurrent decoding differs", p)
				}
				errs <- err
			}
		}()
	}
	for range 8 * len(paths) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
