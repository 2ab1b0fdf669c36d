package degrade

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/synth/noisestats"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xdead)) }

// flat returns a w×h image of value v.
func flat(w, h int, v float32) *images.Image {
	m := images.New(w, h)
	for i := range m.Pix {
		m.Pix[i] = v
	}
	return m
}

// ramp returns a w×h image whose every channel rises linearly from 0 at the
// left to 1 at the right (pixel centres), the same in every row: the clean
// intensity is uniform over [0,1] and neighbours have nearly equal values.
func ramp(w, h int) *images.Image {
	m := images.New(w, h)
	for c := 0; c < images.Channels; c++ {
		p := m.Plane(c)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				p[y*w+x] = (float32(x) + 0.5) / float32(w)
			}
		}
	}
	return m
}

// textured returns a w×h image of uniform random values.
func textured(w, h int, seed uint64) *images.Image {
	rng := newRand(seed)
	m := images.New(w, h)
	for i := range m.Pix {
		m.Pix[i] = float32(rng.Float64())
	}
	return m
}

func measure(t *testing.T, degraded, clean *images.Image) *noisestats.Stats {
	t.Helper()
	acc, err := noisestats.NewAccumulator(noisestats.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.Add(degraded, clean); err != nil {
		t.Fatal(err)
	}
	return acc.Stats()
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.5g, want %.5g ± %.3g", what, got, want, tol)
	}
}

func noJPEG() Camera {
	c := DefaultCamera()
	c.JPEGQuality = 0
	return c
}

func TestDeterministic(t *testing.T) {
	img := textured(67, 45, 1)
	for _, d := range []Degrader{DefaultCamera(), noJPEG(), Gaussian{Sigma: 25}} {
		a := apply(t, d, img, newRand(7))
		b := apply(t, d, img, newRand(7))
		if !slices.Equal(a.Pix, b.Pix) {
			t.Errorf("%v: two runs with the same seed differ", d)
		}
		c := apply(t, d, img, newRand(8))
		if slices.Equal(a.Pix, c.Pix) {
			t.Errorf("%v: different seeds give the same output", d)
		}
	}
	if !slices.Equal(img.Pix, textured(67, 45, 1).Pix) {
		t.Error("Apply modified its input")
	}
}

func TestOutputInRangeAndSameSize(t *testing.T) {
	loud := DefaultCamera()
	loud.Shot = [3]float64{0.5, 0.5, 0.5} // heavy clipping
	for _, d := range []Degrader{DefaultCamera(), noJPEG(), loud, Gaussian{Sigma: 80}, Gaussian{}} {
		for _, size := range [][2]int{{37, 23}, {1, 1}, {16, 9}, {0, 5}} {
			img := textured(size[0], size[1], 2)
			out := apply(t, d, img, newRand(3))
			if out.W != img.W || out.H != img.H || len(out.Pix) != len(img.Pix) {
				t.Fatalf("%v: %dx%d in, %dx%d (%d values) out", d, img.W, img.H, out.W, out.H, len(out.Pix))
			}
			for _, v := range out.Pix {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("%v on %dx%d: value %v outside [0,1]", d, img.W, img.H, v)
				}
			}
		}
	}
	// Zero noise without JPEG is the identity.
	quiet := Camera{}
	img := textured(20, 10, 4)
	if out := apply(t, quiet, img, newRand(1)); !slices.Equal(out.Pix, img.Pix) {
		t.Error("a camera without noise or JPEG changed the image")
	}
}

// The std of n correlated normal values has relative standard error
// sqrt(Σρ²/(2n)), Σρ² summing the squared correlations over all 2-D lags:
// (1 + 2ρ1² + 2ρ2²)² ≈ 3.8 for Spread 0.5. Tolerances below are 5 of
// those standard errors.
func TestCameraNoiseIsSignalDependent(t *testing.T) {
	const w, h = 512, 512
	cam := noJPEG()
	clean := ramp(w, h)
	s := measure(t, apply(t, cam, clean, newRand(5)), clean)
	r1, r2 := cam.NeighbourCorrelation()
	sumRho2 := math.Pow(1+2*r1*r1+2*r2*r2, 2)
	edges := noisestats.BinEdges(s.Config.Bins)
	for c := 0; c < images.Channels; c++ {
		// The std rises with intensity: bins 2, 5, 8, 11 of 16 (three bins
		// apart the rise, 10–30%, is many standard errors; the top bins
		// lose spread to clipping at 1).
		for b := 5; b <= 11; b += 3 {
			if !(s.BinStd[c][b] > 1.05*s.BinStd[c][b-3]) {
				t.Errorf("channel %d: std %.3g in bin %d not 5%% above %.3g in bin %d", c, s.BinStd[c][b], b, s.BinStd[c][b-3], b-3)
			}
		}
		// Bins 3..11 (far enough from 0 and 1 that clipping is < 0.3% of
		// values): the variance averaged over the bin is Shot·Ī + Read.
		for b := 3; b <= 11; b++ {
			centre := (edges[b] + edges[b+1]) / 2
			want := 255 * math.Sqrt(cam.Shot[c]*centre+cam.Read[c])
			tol := 5 * want * math.Sqrt(sumRho2/(2*float64(s.BinCount[c][b])))
			within(t, "camera noise std in bin (grey levels)", s.BinStd[c][b], want, tol)
		}
	}
	// A white ramp of the AWGN baseline is flat instead (away from the
	// clipped ends): bins 2 and 13 agree within their noise.
	g := measure(t, apply(t, Gaussian{Sigma: 10}, clean, newRand(6)), clean)
	within(t, "gaussian std, bin 13 minus bin 2", g.BinStd[1][13]-g.BinStd[1][2], 0, 5*10*math.Sqrt(2/(2*float64(g.BinCount[1][2]))))
}

func TestCameraNoiseIsSpatiallyCorrelated(t *testing.T) {
	const w, h = 512, 512
	clean := flat(w, h, 0.5) // σ ≈ 15–19 grey levels: no clipping
	cam := noJPEG()
	s := measure(t, apply(t, cam, clean, newRand(9)), clean)
	r1, r2 := cam.NeighbourCorrelation() // 2/3 and 1/6
	// Bartlett: the lag-k sample correlation's variance is about
	// Σ_j ρ_j² / n ≤ 4/n here; 0.02 is over 5 standard errors.
	for c := 0; c < images.Channels; c++ {
		within(t, "camera horizontal lag-1 correlation", s.CorrH[c][0], r1, 0.02)
		within(t, "camera vertical lag-1 correlation", s.CorrV[c][0], r1, 0.02)
		within(t, "camera horizontal lag-2 correlation", s.CorrH[c][1], r2, 0.02)
		within(t, "camera vertical lag-2 correlation", s.CorrV[c][1], r2, 0.02)
	}
	// Channels share a component: correlation ChannelCorr between planes.
	out := apply(t, cam, clean, newRand(10))
	within(t, "R–G noise correlation", planeCorr(out.Plane(0), out.Plane(1)), cam.ChannelCorr, 0.02)

	// With JPEG (the demo's default) neighbours stay clearly correlated.
	jp := measure(t, apply(t, DefaultCamera(), clean, newRand(11)), clean)
	if c := jp.CorrMean(1); !(c > 0.4) {
		t.Errorf("camera with JPEG: mean lag-1 correlation %.3f, want > 0.4", c)
	}
	// AWGN: no correlation (5·sqrt(1/n) with n ≈ 512²).
	g := measure(t, apply(t, Gaussian{Sigma: 15}, clean, newRand(12)), clean)
	for c := 0; c < images.Channels; c++ {
		for l := 0; l < noisestats.MaxLag; l++ {
			within(t, "gaussian horizontal correlation", g.CorrH[c][l], 0, 0.01)
			within(t, "gaussian vertical correlation", g.CorrV[c][l], 0, 0.01)
		}
		within(t, "gaussian std (grey levels)", g.Std[c], 15, 5*15/math.Sqrt(2*w*h))
	}
}

// planeCorr is the Pearson correlation of two equally long planes.
func planeCorr(a, b []float32) float64 {
	var n, sa, sb, saa, sbb, sab float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		n++
		sa += x
		sb += y
		saa += x * x
		sbb += y * y
		sab += x * y
	}
	return (sab - sa*sb/n) / math.Sqrt((saa-sa*sa/n)*(sbb-sb*sb/n))
}

func TestJPEGRoundTrip(t *testing.T) {
	img := ramp(64, 48)
	out := must(t)(JPEGRoundTrip(img, 90))
	if out.W != 64 || out.H != 48 {
		t.Fatalf("size %dx%d", out.W, out.H)
	}
	// A smooth ramp survives quality 90 closely but not exactly.
	var maxd float64
	for i := range img.Pix {
		maxd = max(maxd, math.Abs(float64(out.Pix[i]-img.Pix[i])))
	}
	if maxd == 0 || maxd > 4.0/255 {
		t.Errorf("JPEG q90 of a ramp: max difference %.2f grey levels, want in (0, 4]", 255*maxd)
	}
}

func TestValidate(t *testing.T) {
	bad := []Degrader{
		Gaussian{Sigma: -1},
		Gaussian{Sigma: math.NaN()},
		Camera{Shot: [3]float64{-1, 0, 0}},
		Camera{Spread: -0.1},
		Camera{ChannelCorr: 1},
		Camera{JPEGQuality: 101},
	}
	for _, d := range bad {
		if d.Validate() == nil {
			t.Errorf("%v accepted", d)
		}
	}
	for _, d := range []Degrader{DefaultCamera(), Camera{}, Gaussian{}, Gaussian{Sigma: 50}} {
		if err := d.Validate(); err != nil {
			t.Errorf("%v rejected: %v", d, err)
		}
	}
	for _, d := range []Degrader{Gaussian{Sigma: -1}, Camera{ChannelCorr: 1}} {
		if out, err := d.Apply(flat(2, 2, 0.5), newRand(1)); err == nil || out != nil {
			t.Errorf("%v: Apply with invalid parameters gave %v, %v; want an error", d, out, err)
		}
	}
	if _, err := JPEGRoundTrip(flat(2, 2, 0.5), 101); err == nil {
		t.Error("JPEGRoundTrip at quality 101 succeeded")
	}
}

// apply is d.Apply, failing the test on an error.
func apply(t *testing.T, d Degrader, img *images.Image, rng *rand.Rand) *images.Image {
	t.Helper()
	out, err := d.Apply(img, rng)
	if err != nil {
		t.Fatalf("%v: %v", d, err)
	}
	return out
}

// must returns a function that fails the test on a non-nil error and
// returns the value otherwise.
func must(t *testing.T) func(*images.Image, error) *images.Image {
	return func(m *images.Image, err error) *images.Image {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
}
