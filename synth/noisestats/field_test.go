package noisestats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/testkit"
)

// fieldCase is one generated image triple (clean, real, synthetic) saved
// with the given bit depth.
type fieldCase struct {
	name               string
	bits               int
	clean, real, synth *images.Image
}

// noisy returns clean + sigma·N(0,1) per value, clamped to [0,1] (as a
// saved image is).
func noisy(clean *images.Image, sigma float64, rng *rand.Rand) *images.Image {
	d := clean.Clone()
	for i, v := range d.Pix {
		d.Pix[i] = float32(min(max(float64(v)+sigma*rng.NormFloat64(), 0), 1))
	}
	return d
}

// fill sets channel c of the rectangle [x0,x1)×[y0,y1) of m to the same
// values as src there (so that the noise is zero) or to v (v >= 0).
func fill(m, src *images.Image, x0, y0, x1, y1 int, v float32) {
	for c := 0; c < Channels; c++ {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				if v >= 0 {
					m.Set(x, y, c, v)
				} else {
					m.Set(x, y, c, src.At(x, y, c))
				}
			}
		}
	}
}

// fieldCases are images that reach every rule of the two metrics: zero
// noise (the 1e-10 floor), zero noise on one side only (both clamps of
// the ratio), noise of exactly 0 and ±1 (bin edges, the closed last
// bin), images barely larger than the window (reflection at every
// pixel), and 16-bit values.
func fieldCases() []fieldCase {
	rng := newRand(31)
	var cs []fieldCase

	clean := uniformClean(41, 29, rng)
	real, synth := noisy(clean, 12.0/255, rng), noisy(clean, 5.0/255, rng)
	fill(real, clean, 0, 0, 12, 10, -1)    // both zero: floor, ratio 1
	fill(synth, clean, 0, 0, 12, 10, -1)   //
	fill(real, clean, 20, 0, 34, 12, -1)   // real zero: ratio clamped to 10
	fill(synth, clean, 10, 15, 30, 29, -1) // synthetic zero: clamped to 0.1
	cs = append(cs, fieldCase{"a_regions", 8, clean, real, synth})

	clean = uniformClean(5, 4, rng)
	cs = append(cs, fieldCase{"b_tiny", 8, clean, noisy(clean, 20.0/255, rng), noisy(clean, 30.0/255, rng)})

	clean = uniformClean(16, 9, rng)
	real, synth = noisy(clean, 0.3, rng), noisy(clean, 0.1, rng)
	fill(clean, nil, 0, 0, 4, 4, 0) // noise +1 and −1: the outermost edges
	fill(real, nil, 0, 0, 4, 2, 1)
	fill(synth, nil, 0, 0, 2, 4, 1)
	fill(clean, nil, 8, 0, 12, 4, 1)
	fill(real, nil, 8, 0, 12, 4, 0)
	cs = append(cs, fieldCase{"c_edges", 8, clean, real, synth})

	clean = uniformClean(23, 17, rng)
	cs = append(cs, fieldCase{"d_16bit", 16, clean, noisy(clean, 0.02, rng), noisy(clean, 0.05, rng)})
	return cs
}

// TestFieldMatchesPython compares AKLD and KLD, per image and averaged,
// with synth/noisestats/python/field_metrics.py: OpenCV's filter2D and
// numpy's histogram on the same PNG files. Both sides work in float64
// from the same float32 noise, so they agree to rounding (about 1e-15);
// 1e-6 is the bound the metrics are specified to.
func TestFieldMatchesPython(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"clean", "real", "synth"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var cs []fieldCase
	for _, c := range fieldCases() {
		for sub, m := range map[string]*images.Image{"clean": c.clean, "real": c.real, "synth": c.synth} {
			if err := images.SavePNG(filepath.Join(dir, sub, c.name+".png"), m, c.bits); err != nil {
				t.Fatal(err)
			}
		}
		cs = append(cs, c)
	}
	ref := runFieldReference(t, dir)
	if ref.BorderCheck > 1e-12 {
		t.Errorf("OpenCV BORDER_REFLECT_101 and torch's reflect padding differ by %g", ref.BorderCheck)
	}
	per := make([]Field, len(cs))
	for i, c := range cs {
		per[i] = measureFiles(t, dir, c.name)
		want := ref.Images[c.name]
		t.Logf("%s: AKLD %.12f (python %.12f), KLD %.12f (python %.12f)", c.name, per[i].AKLD, want.AKLD, per[i].KLD, want.KLD)
		within(t, c.name+" AKLD", per[i].AKLD, want.AKLD, 1e-6)
		within(t, c.name+" KLD", per[i].KLD, want.KLD, 1e-6)
	}
	mean := MeanField(per)
	within(t, "mean AKLD", mean.AKLD, ref.Mean.AKLD, 1e-6)
	within(t, "mean KLD", mean.KLD, ref.Mean.KLD, 1e-6)
}

// fieldReference is field_metrics.py's output.
type fieldReference struct {
	Images map[string]struct {
		AKLD float64 `json:"akld"`
		KLD  float64 `json:"kld"`
	} `json:"images"`
	Mean struct {
		AKLD float64 `json:"akld"`
		KLD  float64 `json:"kld"`
	} `json:"mean"`
	BorderCheck float64 `json:"border_check"`
}

func runFieldReference(t *testing.T, dir string) fieldReference {
	t.Helper()
	script := filepath.Join("python", "field_metrics.py")
	cmd := exec.Command(testkit.Python, "-B", script, filepath.Join(dir, "clean"), filepath.Join(dir, "real"), filepath.Join(dir, "synth"))
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s (needs python3-opencv, python3-numpy and python3-torch; `make deps` installs them): %v\n%s", testkit.Python, script, err, stderr)
	}
	var ref fieldReference
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatalf("reading %s's output: %v\n%s", script, err, out)
	}
	return ref
}

// measureFiles loads one saved triple and measures it.
func measureFiles(t *testing.T, dir, name string) Field {
	t.Helper()
	load := func(sub string) *images.Image {
		m, err := images.Load(filepath.Join(dir, sub, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	clean := load("clean")
	rn, err := Noise(load("real"), clean)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := Noise(load("synth"), clean)
	if err != nil {
		t.Fatal(err)
	}
	f, err := MeasureField(rn, sn)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestAKLDClosedForms checks the values the formula gives without any
// estimation: identical noise, and the two clamps of the ratio.
func TestAKLDClosedForms(t *testing.T) {
	rng := newRand(32)
	n := whiteNoise(24, 18, 0.05, rng)
	zero := images.New(24, 18)
	for _, c := range []struct {
		what        string
		real, synth *images.Image
		want        float64
	}{
		{"identical noise", n, n, 0},
		{"both zero (floored variances, ratio 1)", zero, zero, 0},
		// Synthetic zero: ratio 1e-10/v clamped to 0.1; real zero: to 10.
		{"synthetic zero", n, zero, 0.5 * (math.Log(10) + 0.1 - 1)},
		{"real zero", zero, n, 0.5 * (math.Log(0.1) + 10 - 1)},
	} {
		got, err := AKLD(c.real, c.synth)
		if err != nil {
			t.Fatal(err)
		}
		within(t, "AKLD, "+c.what, got, c.want, 1e-12)
	}
	// Scaling both noises alike leaves every ratio unchanged.
	a, b := whiteNoise(20, 20, 0.02, rng), whiteNoise(20, 20, 0.04, rng)
	a3, b3 := a.Clone(), b.Clone()
	for i := range a3.Pix {
		a3.Pix[i] *= 4
		b3.Pix[i] *= 4
	}
	v1, _ := AKLD(a, b)
	v3, _ := AKLD(a3, b3)
	within(t, "AKLD of noise scaled by 4", v3, v1, 1e-9)
}

// TestLocalVarianceOfConstantNoise: a window summing to 1 over a constant
// square gives the square back at every pixel, borders included.
func TestLocalVarianceOfConstantNoise(t *testing.T) {
	plane := make([]float32, 9*5)
	for i := range plane {
		plane[i] = 0.25
	}
	for _, v := range LocalVariance(plane, 9, 5) {
		within(t, "local variance of constant noise", v, 0.0625, 1e-15)
	}
}

// TestKLDRules checks the histogram rules on hand-made noise.
func TestKLDRules(t *testing.T) {
	img := func(vals ...float32) *images.Image {
		m := images.New(len(vals)/Channels, 1)
		copy(m.Pix, vals)
		return m
	}
	// Disjoint histograms share no bin: everything is dropped, KLD 0.
	got, _ := KLD(img(0.5, 0.5, 0.5), img(-0.5, -0.5, -0.5))
	within(t, "KLD of disjoint histograms", got, 0, 0)
	// p = (2/3 in bin of 0, 1/3 in the last bin [127/128, 1]); q = (1/3, 2/3).
	got, _ = KLD(img(0, 0, 1), img(0, 0.999, 1))
	want := 2.0/3*math.Log(2) + 1.0/3*math.Log(0.5)
	within(t, "KLD with noise 1 in the closed last bin", got, want, 1e-15)
	// A value beyond [−1, 1] is not counted but stays in the denominator.
	got, _ = KLD(img(0, 0, 2), img(0, 0, 0))
	want = 2.0 / 3 * math.Log((2.0/3)/1)
	within(t, "KLD with an out-of-range value", got, want, 1e-15)
	if _, err := KLD(img(0, 0, 0), images.New(2, 1)); err == nil {
		t.Error("KLD of images of different sizes: no error")
	}
	if _, err := AKLD(images.New(3, 8), images.New(3, 8)); err == nil {
		t.Error("AKLD of a 3-pixel-wide image: no error")
	}
}
