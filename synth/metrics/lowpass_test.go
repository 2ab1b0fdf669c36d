package metrics

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/testkit"
)

// TestLowPassMatchesOpenCV compares LowPass with cv2.GaussianBlur (in
// float64, BORDER_REFLECT_101) on random images, odd sizes and σ whose
// window nearly spans the image. Go sums in float64 and stores float32,
// so the difference is float32 rounding of values in [0,1]: below 1e-6.
func TestLowPassMatchesOpenCV(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 3))
	for _, c := range []struct {
		w, h  int
		sigma float64
	}{{37, 23, 1.5}, {16, 41, 2}, {11, 9, 0.8}, {20, 20, 3}} {
		m := images.New(c.w, c.h)
		for i := range m.Pix {
			m.Pix[i] = rng.Float32()
		}
		got, err := LowPass(m, c.sigma)
		if err != nil {
			t.Fatal(err)
		}
		want := openCVBlur(t, m, c.sigma)
		var worst float64
		for i, v := range got.Pix {
			worst = max(worst, math.Abs(float64(v)-want[i]))
		}
		if worst > 1e-6 {
			t.Errorf("%dx%d σ %g: max |LowPass − cv2.GaussianBlur| = %g, want <= 1e-6", c.w, c.h, c.sigma, worst)
		}
	}
}

// TestLowPassRejects checks the errors: σ <= 0 and a window wider than
// the image.
func TestLowPassRejects(t *testing.T) {
	m := images.New(8, 8)
	for _, sigma := range []float64{0, -1, math.NaN(), 3} {
		if _, err := LowPass(m, sigma); err == nil {
			t.Errorf("σ %g on 8×8: no error", sigma)
		}
	}
}

// openCVBlur runs python/lowpass.py on m.
func openCVBlur(t *testing.T, m *images.Image, sigma float64) []float64 {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.f32"), filepath.Join(dir, "out.f64")
	raw := make([]byte, 4*len(m.Pix))
	for i, v := range m.Pix {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testkit.Python, "-B", filepath.Join("python", "lowpass.py"), in, out,
		strconv.Itoa(m.W), strconv.Itoa(m.H), strconv.FormatFloat(sigma, 'g', -1, 64))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python/lowpass.py (needs python3-opencv and python3-numpy; `make deps` installs them): %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil || len(b) != 8*len(m.Pix) {
		t.Fatalf("reading %s: %v (%d bytes, want %d)", out, err, len(b), 8*len(m.Pix))
	}
	v := make([]float64, len(m.Pix))
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}

// TestLowPassHugeSigmaRefusedFirst: a σ whose window would be far wider
// than the image (hostile case ev09: 1e9, a 6e9-tap kernel) or infinite is
// refused before the kernel is made, at once.
func TestLowPassHugeSigmaRefusedFirst(t *testing.T) {
	m := images.New(16, 16)
	for _, s := range []float64{1e9, 1e300, math.Inf(1)} {
		start := time.Now()
		if _, err := LowPass(m, s); err == nil {
			t.Errorf("LowPass(16x16, σ %g) accepted", s)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("LowPass(σ %g) took %v to refuse", s, d)
		}
	}
}
