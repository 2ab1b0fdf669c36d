package metrics

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/torchbind/pickle"
)

// referencePath holds KAIR's reference vectors (docs/design.md §5): crop_uint8
// and noisy_uint8 (97×103×3) and the metrics between them.
const referencePath = "../../testdata/reference/image_vectors.pth"

type refData struct {
	crop, noisy []uint8
	h, w        int
	scalars     map[string]float64
}

func loadReference(t *testing.T) refData {
	t.Helper()
	v, err := pickle.Load(referencePath)
	if err != nil {
		t.Fatalf("reading reference vectors: %v", err)
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		t.Fatalf("%s holds %T, want a dict", referencePath, v)
	}
	tensor := func(key string, dt pickle.DType) *pickle.Tensor {
		v, ok := d.Get(key)
		tt, isT := v.(*pickle.Tensor)
		if !ok || !isT || tt.DType != dt {
			t.Fatalf("reference %q: %T, want a %s tensor", key, v, dt)
		}
		return tt
	}
	var r refData
	c := tensor("crop_uint8", pickle.Uint8)
	n := tensor("noisy_uint8", pickle.Uint8)
	if len(c.Shape) != 3 || c.Shape[2] != 3 || len(n.Shape) != 3 || n.Shape[0] != c.Shape[0] || n.Shape[1] != c.Shape[1] || n.Shape[2] != 3 {
		t.Fatalf("crop %v and noisy %v are not equal H×W×3 shapes", c.Shape, n.Shape)
	}
	r.crop, r.noisy = c.Contiguous(), n.Contiguous()
	r.h, r.w = int(c.Shape[0]), int(c.Shape[1])
	r.scalars = map[string]float64{}
	for _, k := range []string{"psnr_border0", "psnr_border4", "ssim_border0", "ssim_border4", "ssim_gray"} {
		tt := tensor(k, pickle.Float64)
		if tt.NumEl() != 1 {
			t.Fatalf("reference %q has shape %v, want one value", k, tt.Shape)
		}
		r.scalars[k] = math.Float64frombits(binary.LittleEndian.Uint64(tt.Contiguous()))
	}
	return r
}

func toFloat(p []uint8) []float64 {
	out := make([]float64, len(p))
	for i, v := range p {
		out[i] = float64(v)
	}
	return out
}

// channel returns channel k of an HWC image as a 2-D (c = 1) image.
func channel(p []uint8, c, k int) []uint8 {
	out := make([]uint8, len(p)/c)
	for i := range out {
		out[i] = p[i*c+k]
	}
	return out
}

// TestMatchesKAIR: PSNR and SSIM between crop_uint8 and noisy_uint8 equal
// KAIR's calculate_psnr / calculate_ssim values within 1e-6, through the
// uint8, float64 and Image entry points, for borders 0 and 4. ssim_gray
// is KAIR's grey (2-D) path: it was computed on the green channel alone
// (crop[..., 1] against noisy[..., 1], border 0) — neither KAIR's
// rgb2ycbcr(only_y) luma (off by 0.19) nor the 0.299/0.587/0.114 grey
// (off by 0.15) reproduces it, the green channel does to 1e-12.
func TestMatchesKAIR(t *testing.T) {
	const tol = 1e-6
	r := loadReference(t)
	fc, fn := toFloat(r.crop), toFloat(r.noisy)
	ic, in := images.FromUint8(r.w, r.h, r.crop), images.FromUint8(r.w, r.h, r.noisy)
	imgPSNR := func(b int) float64 { v, err := PSNRImage(ic, in, b); must(t, err); return v }
	imgSSIM := func(b int) float64 { v, err := SSIMImage(ic, in, b); must(t, err); return v }
	g1, g2 := channel(r.crop, 3, 1), channel(r.noisy, 3, 1)
	for _, tc := range []struct {
		name, key string
		got       float64
	}{
		{"PSNRUint8 border 0", "psnr_border0", PSNRUint8(r.crop, r.noisy, r.h, r.w, 3, 0)},
		{"PSNRUint8 border 4", "psnr_border4", PSNRUint8(r.crop, r.noisy, r.h, r.w, 3, 4)},
		{"PSNR border 0", "psnr_border0", PSNR(fc, fn, r.h, r.w, 3, 0)},
		{"PSNR border 4", "psnr_border4", PSNR(fc, fn, r.h, r.w, 3, 4)},
		{"PSNRImage border 0", "psnr_border0", imgPSNR(0)},
		{"PSNRImage border 4", "psnr_border4", imgPSNR(4)},
		{"SSIMUint8 border 0", "ssim_border0", SSIMUint8(r.crop, r.noisy, r.h, r.w, 3, 0)},
		{"SSIMUint8 border 4", "ssim_border4", SSIMUint8(r.crop, r.noisy, r.h, r.w, 3, 4)},
		{"SSIM border 0", "ssim_border0", SSIM(fc, fn, r.h, r.w, 3, 0)},
		{"SSIM border 4", "ssim_border4", SSIM(fc, fn, r.h, r.w, 3, 4)},
		{"SSIMImage border 0", "ssim_border0", imgSSIM(0)},
		{"SSIMImage border 4", "ssim_border4", imgSSIM(4)},
		{"SSIMUint8 grey (green channel)", "ssim_gray", SSIMUint8(g1, g2, r.h, r.w, 1, 0)},
		{"SSIM grey (green channel)", "ssim_gray", SSIM(toFloat(g1), toFloat(g2), r.h, r.w, 1, 0)},
	} {
		want := r.scalars[tc.key]
		if d := math.Abs(tc.got - want); !(d <= tol) {
			t.Errorf("%s = %.15g, want %s = %.15g (|diff| %.3g > %g)", tc.name, tc.got, tc.key, want, d, tol)
		} else {
			t.Logf("%s: |diff| %.3g", tc.name, d)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestEdgeCases: identical images give PSNR +Inf and SSIM 1; a border that
// leaves too little gives NaN; mismatched images are errors (wrappers) or
// panics (slice functions).
func TestEdgeCases(t *testing.T) {
	const h, w = 20, 16
	a := make([]uint8, h*w*3)
	for i := range a {
		a[i] = uint8(i * 7)
	}
	if v := PSNRUint8(a, a, h, w, 3, 0); !math.IsInf(v, 1) {
		t.Errorf("PSNR of identical images = %v, want +Inf", v)
	}
	if v := SSIMUint8(a, a, h, w, 3, 0); math.Abs(v-1) > 1e-12 {
		t.Errorf("SSIM of identical images = %v, want 1", v)
	}
	if v := SSIMUint8(a, a, h, w, 3, 3); !math.IsNaN(v) { // 10 columns left < 11
		t.Errorf("SSIM with a 10-wide region = %v, want NaN", v)
	}
	if v := PSNRUint8(a, a, h, w, 3, 8); !math.IsNaN(v) {
		t.Errorf("PSNR with an empty region = %v, want NaN", v)
	}
	if _, err := PSNRImage(images.New(4, 4), images.New(4, 5), 0); err == nil {
		t.Error("PSNRImage of 4x4 and 4x5 images: no error")
	}
	if _, err := SSIMImage(images.New(4, 4), images.New(5, 4), 0); err == nil {
		t.Error("SSIMImage of 4x4 and 5x4 images: no error")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("PSNR with a wrong length did not panic")
			}
		}()
		PSNR(make([]float64, 10), make([]float64, 10), 2, 2, 3, 0)
	}()
}

// TestPSNRKnownValue: a uniform error of 1 gives 20·log10(255) dB, and the
// border crops rows and columns.
func TestPSNRKnownValue(t *testing.T) {
	const h, w = 6, 5
	a := make([]float64, h*w)
	b := make([]float64, h*w)
	for i := range b {
		b[i] = 1
	}
	if got, want := PSNR(a, b, h, w, 1, 0), 20*math.Log10(255); math.Abs(got-want) > 1e-12 {
		t.Errorf("PSNR = %v, want %v", got, want)
	}
	// Errors only on the border do not count.
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if y == 0 || x == 0 || y == h-1 || x == w-1 {
				b[y*w+x] = 100
			}
		}
	}
	if got, want := PSNR(a, b, h, w, 1, 1), 20*math.Log10(255); math.Abs(got-want) > 1e-12 {
		t.Errorf("PSNR border 1 = %v, want %v", got, want)
	}
}

// TestWindow: the Gaussian window sums to 1, is symmetric and has the
// centre weight of the normalized discrete Gaussian with σ = 1.5
// (0.26601172486179436, computed with numpy as exp(0)/Σexp(-x²/4.5)).
func TestWindow(t *testing.T) {
	var sum float64
	for i, v := range window {
		sum += v
		if v != window[len(window)-1-i] {
			t.Errorf("window not symmetric at %d", i)
		}
	}
	if math.Abs(sum-1) > 1e-15 {
		t.Errorf("window sums to %v", sum)
	}
	if math.Abs(window[5]-0.26601172486179436) > 1e-15 {
		t.Errorf("centre weight %v, want 0.26601172486179436", window[5])
	}
}

// BenchmarkSSIM times SSIM of a 2040×1356 RGB image pair.
func BenchmarkSSIM(b *testing.B) {
	const h, w = 1356, 2040
	x := make([]uint8, h*w*3)
	y := make([]uint8, h*w*3)
	for i := range x {
		x[i], y[i] = uint8(i*13), uint8(i*13+i%7)
	}
	for b.Loop() {
		SSIMUint8(x, y, h, w, 3, 0)
	}
}
