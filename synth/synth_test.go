package synth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestTiledEqualsWhole checks that tile-by-tile synthesis equals the
// whole-image result: the margin covers the receptive field and the
// counter-based noise draws the same ε in a tile as in the whole image.
func TestTiledEqualsWhole(t *testing.T) {
	t.Parallel()
	for _, levels := range []int{1, 3} {
		m, err := model.New(model.Config{Channels: 3, Filters: 6, Levels: levels}, tb.Options{DType: tb.Float64}, 3)
		if err != nil {
			t.Fatal(err)
		}
		tb.WithScope(func(*tb.Scope) {
			if err := tb.Try(func() {
				g := tb.NewGenerator(1, tb.CPU)
				defer g.Close()
				x := tb.Rand([]int64{1, 3, 70, 93}, tb.Options{DType: tb.Float64}, g)
				gen := func(x *tb.Tensor, n model.Noise) (*tb.Tensor, error) {
					return m.Translate(x, tb.Full([]int64{x.Size(0)}, 40, tb.Options{DType: tb.Float64}), 1, n)
				}
				noise := model.Noise{Seed: 9, Stream: 4}
				whole, err := Tiled(x, 0, Margin(levels), noise, gen)
				if err != nil {
					t.Fatal(err)
				}
				for _, tile := range []int{16, 32, 50} {
					tiled, err := Tiled(x, tile, Margin(levels), noise, gen)
					if err != nil {
						t.Fatal(err)
					}
					// float64 convolutions over different extents: rounding only.
					if d := tiled.Sub(whole).Abs().Max().Item(); d > 1e-5 {
						t.Errorf("levels %d, tile %d: tiled differs from whole by %g", levels, tile, d)
					}
					// Batches of equal windows, each row with its own noise.
					for _, batch := range []int{2, 3, 100} {
						batched, err := TiledBatch(x, tile, Margin(levels), batch, noise, gen)
						if err != nil {
							t.Fatal(err)
						}
						if d := batched.Sub(whole).Abs().Max().Item(); d > 1e-5 {
							t.Errorf("levels %d, tile %d, batch %d: differs from whole by %g", levels, tile, batch, d)
						}
					}
				}
				// Another stream (another image's noise) differs: the
				// comparison can fail.
				other, err := TiledBatch(x, 16, Margin(levels), 4, model.Noise{Seed: 9, Stream: 5}, gen)
				if err != nil {
					t.Fatal(err)
				}
				if d := other.Sub(whole).Abs().Max().Item(); d < 1e-3 {
					t.Errorf("levels %d: stream 5 matches stream 4 (diff %g)", levels, d)
				}
				// Without context the seams show: the comparison can fail.
				bare, err := Tiled(x, 16, 0, noise, gen)
				if err != nil {
					t.Fatal(err)
				}
				if d := bare.Sub(whole).Abs().Max().Item(); d < 1e-3 {
					t.Errorf("levels %d: tiles without margin match the whole image (diff %g)", levels, d)
				}
			}); err != nil {
				t.Fatal(err)
			}
		})
		m.Close()
	}
}

// saveTinyModel writes a small untrained model's state dict into dir, as
// edit leaves it (nil: as initialized).
func saveTinyModel(t *testing.T, dir string, seed uint64, edit func(*model.LUDVAE)) string {
	t.Helper()
	ckpt := filepath.Join(dir, "m.pth")
	m, err := model.New(model.Config{Channels: 3, Filters: 4, Levels: 2}, tb.Options{}, seed)
	if err == nil {
		if edit != nil {
			edit(m)
		}
		err = m.SaveStateDict(ckpt)
		m.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return ckpt
}

// writeClean writes n patterned images a.png, b.png, … of 40+4i×36.
func writeClean(t *testing.T, dir string, n int) {
	t.Helper()
	for i := range n {
		m := testkit.Photo{W: 40 + 4*i, H: 36, Pix: make([]float32, 3*(40+4*i)*36)}
		for j := range m.Pix {
			m.Pix[j] = float32(math.Mod(float64(j*(i+3))*0.37, 1))
		}
		testkit.WritePNG(t, filepath.Join(dir, string(rune('a'+i))+".png"), m)
	}
}

// TestRunLayoutAndDeterminism synthesizes twice with the same seed and once
// with another, and checks the layout, the manifest and byte identity.
func TestRunLayoutAndDeterminism(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean")
	writeClean(t, clean, 3)
	ckpt := saveTinyModel(t, dir, 1, nil)
	run := func(out string, seed uint64, sr int) {
		o := Defaults()
		o.Model, o.Clean, o.Out, o.Samples, o.Seed, o.Tile, o.Device, o.SRScale = ckpt, clean, out, 2, seed, 16, "cpu", sr
		if err := synthRun(context.Background(), o, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	run(a, 5, 1)
	run(b, 5, 1)
	run(c, 6, 1)
	f, err := os.Open(filepath.Join(a, Manifest))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 6 {
		t.Fatalf("%d manifest records, want 3 images × 2 samples", len(recs))
	}
	for _, r := range recs {
		if r.Sigma < 30 || r.Sigma > 70 || r.Temperature != 1 || r.Seed != 5 {
			t.Errorf("record %+v", r)
		}
		la, _ := os.ReadFile(filepath.Join(a, r.L))
		lb, _ := os.ReadFile(filepath.Join(b, r.L))
		lc, _ := os.ReadFile(filepath.Join(c, r.L))
		if len(la) == 0 || !bytes.Equal(la, lb) {
			t.Errorf("%s: same seed, different bytes", r.L)
		}
		if bytes.Equal(la, lc) {
			t.Errorf("%s: different seeds, same bytes", r.L)
		}
		h, err := images.Load(filepath.Join(a, r.H))
		l, err2 := images.Load(filepath.Join(a, r.L))
		if err != nil || err2 != nil || h.W != l.W || h.H != l.H {
			t.Errorf("%s / %s: %v %v", r.H, r.L, err, err2)
		}
	}
	// Super-resolution: H is the HR image, L the ×4-smaller degraded LR.
	sr := filepath.Join(dir, "sr")
	run(sr, 5, 4)
	h, _ := images.Load(filepath.Join(sr, DirH, "a_s0.png"))
	l, _ := images.Load(filepath.Join(sr, DirL, "a_s0.png"))
	if h == nil || l == nil || h.W != 4*l.W || h.H != 4*l.H {
		t.Fatalf("SR pair sizes: %v %v", h, l)
	}
}

// TestRunN2C runs --mode n2c and checks it writes clean estimates of the
// inputs' size.
func TestRunN2C(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "noisy")
	writeClean(t, in, 2)
	ckpt := saveTinyModel(t, dir, 1, nil)
	o := Defaults()
	o.Model, o.Clean, o.Out, o.Mode, o.Device = ckpt, in, filepath.Join(dir, "out"), "n2c", "cpu"
	if err := synthRun(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.png", "b.png"} {
		src, _ := images.Load(filepath.Join(in, n))
		est, err := images.Load(filepath.Join(o.Out, DirL, n))
		if err != nil || est.W != src.W || est.H != src.H {
			t.Fatalf("%s: %v", n, err)
		}
	}
}

// TestRunNormalization checks the colour statistics on both sides of the
// model, as the authors' main_test.py and main_translate.py apply them: C2N
// maps the raw output back to the degraded statistics and clamps once, when
// saving; N2C maps its input to the clean statistics and leaves its clean
// estimate there. The expected images are computed here from the model
// directly; each mistaken rule (no map, clamping first, mapping N2C's
// output) must give an image that differs, so the test can fail.
func TestRunNormalization(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeClean(t, in, 1)
	src, err := images.Load(filepath.Join(in, "a.png"))
	if err != nil {
		t.Fatal(err)
	}
	norm := model.AIM19Normalization
	// The untrained model's outputs are negative: clamping before the map
	// back shows. With outconv's bias at 0.5 they are mid grey, where a map
	// back shows. (An untrained model hardly depends on its input, so the
	// N2C input map is checked by TestN2CInput.)
	midGrey := func(m *model.LUDVAE) {
		tb.NoGrad(func() {
			for _, p := range m.Params() {
				if p.Name == "outconv.bias" {
					p.Tensor.Fill(0.5)
				}
			}
		})
	}
	clone := func(m *images.Image) *images.Image {
		return &images.Image{W: m.W, H: m.H, Pix: append([]float32(nil), m.Pix...)}
	}
	clamped := func(m *images.Image) *images.Image {
		c := clone(m)
		for i, v := range c.Pix {
			c.Pix[i] = min(max(v, 0), 1)
		}
		return c
	}
	fromClean := func(m *images.Image) *images.Image { c := clone(m); norm.FromClean(c); return c }
	toClean := func(m *images.Image) *images.Image { c := clone(m); norm.ToClean(c); return c }
	cases := []struct {
		mode  string
		sigma float64
		edit  func(*model.LUDVAE)
		// rules returns the expected image and the mistaken ones, given the
		// raw (unclamped) model output for an input image.
		rules func(raw func(*images.Image) *images.Image) (want *images.Image, wrong map[string]*images.Image)
	}{
		{"c2n", 15, nil, func(raw func(*images.Image) *images.Image) (*images.Image, map[string]*images.Image) {
			r := raw(src)
			return fromClean(r), map[string]*images.Image{"not mapped back": clamped(r), "clamped first": fromClean(clamped(r))}
		}},
		{"n2c", 0, midGrey, func(raw func(*images.Image) *images.Image) (*images.Image, map[string]*images.Image) {
			want := clamped(raw(toClean(src)))
			return want, map[string]*images.Image{"mapped back": fromClean(want)}
		}}, // --residual: the same mapping of the residual C2N's output, which
		// is not the plain C2N's.
		{"c2n-residual", 15, nil, func(raw func(*images.Image) *images.Image) (*images.Image, map[string]*images.Image) {
			return fromClean(raw(src)), nil
		}},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			mdir := filepath.Join(dir, c.mode)
			os.MkdirAll(mdir, 0o755)
			ckpt := saveTinyModel(t, mdir, 5, c.edit)
			m, err := model.Load(ckpt, tb.Options{DType: tb.Float32})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			// raw is the model's output as ludvae synth computes it for the
			// first image (stream 0, the whole image), before any clamp.
			raw := func(img *images.Image) *images.Image {
				var out *images.Image
				tb.WithScope(func(*tb.Scope) {
					x := tb.FromSlice(img.Pix, 1, 3, int64(img.H), int64(img.W))
					s := tb.Full([]int64{1}, c.sigma, tb.Options{})
					noise := model.Noise{Seed: 3, Stream: 0}
					var y *tb.Tensor
					var err error
					switch c.mode {
					case "n2c":
						y, err = m.CleanEstimate(x, s, noise)
					case "c2n-residual":
						y, err = m.TranslateResidual(x, s, 1, noise)
						plain, _ := m.Translate(x, s, 1, noise)
						if d := maxDiff(y.Float32s(), plain.Float32s()); d < 2.0/255 {
							t.Fatalf("residual C2N equals the plain C2N within %g: the check cannot tell them apart", d)
						}
					default:
						y, err = m.Translate(x, s, 1, noise)
					}
					if err != nil {
						t.Fatal(err)
					}
					out = &images.Image{W: img.W, H: img.H, Pix: y.Float32s()}
				})
				return out
			}
			want, wrong := c.rules(raw)
			o := Defaults()
			o.Model, o.Clean, o.Out, o.Mode, o.Device = ckpt, in, filepath.Join(mdir, "out"), strings.TrimSuffix(c.mode, "-residual"), "cpu"
			o.SigmaMin, o.SigmaMax, o.Seed, o.Norm, o.Residual = c.sigma, c.sigma, 3, &norm, c.mode == "c2n-residual"
			if err := synthRun(context.Background(), o, io.Discard); err != nil {
				t.Fatal(err)
			}
			got, err := images.Load(filepath.Join(o.Out, DirL, "a.png"))
			if err != nil {
				t.Fatal(err)
			}
			// 8-bit PNG: half a level, plus float32 rounding of another layout.
			const tol = 0.5/255 + 1e-4
			if d := maxDiff(got.Pix, want.Pix); d > tol {
				t.Errorf("output differs from the expected image by %g (tolerance %g)", d, tol)
			}
			for name, w := range wrong {
				if d := maxDiff(got.Pix, w.Pix); d < 2.0/255 {
					t.Errorf("output also fits the rule %q (max difference %g): the check cannot tell them apart", name, d)
				}
			}
			h, _ := images.Load(filepath.Join(o.Out, DirH, "a.png"))
			if h == nil || maxDiff(h.Pix, src.Pix) != 0 {
				t.Errorf("H/a.png is not the input as read")
			}
		})
	}
}

// TestN2CInput: N2C's h(y) adds the h-noise to the degraded image first and
// maps the sum to the clean statistics, clamped (the authors' main_test.py),
// against the same arithmetic in float64 on images; the other order gives
// another h, so the test can fail. Without statistics h(y) is untouched.
func TestN2CInput(t *testing.T) {
	t.Parallel()
	m, err := model.New(model.Config{Channels: 3, Filters: 4, Levels: 2}, tb.Options{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	norm := model.AIM19Normalization
	noise := model.Noise{Seed: 8, Stream: 3}
	asImage := func(x *tb.Tensor) *images.Image {
		return &images.Image{W: int(x.Size(3)), H: int(x.Size(2)), Pix: x.Float32s()}
	}
	tb.WithScope(func(*tb.Scope) {
		g := tb.NewGenerator(4, tb.CPU)
		defer g.Close()
		y := tb.Rand([]int64{1, 3, 9, 13}, tb.Options{}, g)
		for _, sigma := range []float64{0, 20} {
			s := tb.Full([]int64{1}, sigma, tb.Options{})
			hy, err := m.Preprocess(y, s, noise)
			if err != nil {
				t.Fatal(err)
			}
			want := asImage(hy)
			norm.ToClean(want)
			o := Defaults()
			o.Mode, o.Norm = "n2c", &norm
			h, err := o.n2cInput(m, y, s, noise)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(asImage(h).Pix, want.Pix); d > 1e-6 { // float32 against float64 arithmetic
				t.Errorf("σ %g: h(y) differs from clamp(ToClean(y + σε)) by %g", sigma, d)
			}
			if sigma > 0 {
				other := asImage(y)
				norm.ToClean(other)
				for i, v := range asImage(hy.Sub(y)).Pix {
					other.Pix[i] = min(max(other.Pix[i]+v, 0), 1)
				}
				if d := maxDiff(asImage(h).Pix, other.Pix); d < 1e-3 {
					t.Errorf("σ %g: noise added after the colour map gives the same h (%g)", sigma, d)
				}
			}
			o.Norm = nil
			if h, err = o.n2cInput(m, y, s, noise); err != nil || maxDiff(asImage(h).Pix, asImage(hy).Pix) != 0 {
				t.Errorf("σ %g without statistics: h(y) changed (%v)", sigma, err)
			}
		}
	})
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// TestRunTemperatureRange: with a temperature range each sample is made at
// the temperature its manifest record names, drawn from the range; the
// model is the authors' small one with its output lifted to mid grey, where
// temperature shows (an untrained one barely reacts to it).
func TestRunTemperatureRange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeClean(t, in, 2)
	m, err := model.Load(filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth"), tb.Options{DType: tb.Float32})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tb.NoGrad(func() {
		for _, p := range m.Params() {
			if p.Name == "outconv.bias" {
				p.Tensor.CopyFrom(p.Tensor.AddScalar(0.5))
			}
		}
	})
	ckpt := filepath.Join(dir, "m.pth")
	if err := m.SaveStateDict(ckpt); err != nil {
		t.Fatal(err)
	}
	o := Defaults()
	o.Model, o.Clean, o.Out, o.Device, o.Seed = ckpt, in, filepath.Join(dir, "out"), "cpu", 2
	o.SigmaMin, o.SigmaMax, o.Temperature, o.TemperatureMax = 20, 20, 1, 3
	if err := synthRun(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(o.Out, Manifest))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	records := 0
	for ; sc.Scan(); records++ {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Temperature <= 1 || r.Temperature >= 3 {
			t.Errorf("%s: temperature %g outside (1, 3)", r.L, r.Temperature)
		}
		src, err := images.Load(r.Source)
		if err != nil {
			t.Fatal(err)
		}
		got, err := images.Load(filepath.Join(o.Out, r.L))
		if err != nil {
			t.Fatal(err)
		}
		at := func(temp float64) []float32 {
			var out []float32
			tb.WithScope(func(*tb.Scope) {
				x := tb.FromSlice(src.Pix, 1, 3, int64(src.H), int64(src.W))
				y, err := m.Translate(x, tb.Full([]int64{1}, r.Sigma, tb.Options{}), temp, model.Noise{Seed: r.Seed, Stream: r.Stream})
				if err != nil {
					t.Fatal(err)
				}
				out = y.Clamp(0, 1).Float32s()
			})
			return out
		}
		const tol = 0.5/255 + 1e-4 // 8-bit PNG, float32 in another layout
		if d := maxDiff(got.Pix, at(r.Temperature)); d > tol {
			t.Errorf("%s: differs from the model at its temperature %g by %g", r.L, r.Temperature, d)
		}
		if d := maxDiff(got.Pix, at(1)); d < 2.0/255 {
			t.Errorf("%s: also fits temperature 1 (%g): the check cannot fail", r.L, d)
		}
	}
	if records != 2 {
		t.Errorf("manifest has %d records, want 2", records)
	}
}

// synthRun is Run as the command calls it: on a runtime of the options's
// settings, made for the run and closed after it.
func synthRun(ctx context.Context, o Options, log io.Writer) error {
	return tb.WithRuntime(o.RuntimeSettings, func(rt *tb.Runtime) error { return Run(ctx, rt, o, log) })
}

// TestRunBatchMatches synthesizes the same folder with --batch 1 and 4:
// every pair within one 8-bit level (the float32 results differ in
// rounding only; a level flips where a value sits at a rounding edge),
// so batching changes neither the noise an image gets nor its seed.
func TestRunBatchMatches(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean")
	writeClean(t, clean, 3)
	ckpt := saveTinyModel(t, dir, 1, nil)
	run := func(out string, batch int) []Record {
		o := Defaults()
		o.Model, o.Clean, o.Out, o.Samples, o.Seed, o.Tile, o.Device, o.Batch = ckpt, clean, out, 2, 5, 16, "cpu", batch
		var log strings.Builder
		if err := synthRun(context.Background(), o, &log); err != nil {
			t.Fatal(err)
		}
		if batch > 1 && !strings.Contains(log.String(), "--batch 4: up to 4 tiles") {
			t.Errorf("log does not state the batch and its memory:\n%s", log.String())
		}
		recs, err := readManifest(filepath.Join(out, Manifest))
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	one, four := run(filepath.Join(dir, "one"), 1), run(filepath.Join(dir, "four"), 4)
	if len(one) != 6 || len(four) != 6 {
		t.Fatalf("%d and %d records, want 6", len(one), len(four))
	}
	worst := 0.0
	for i, r := range one {
		if four[i] != r {
			t.Errorf("record %d: %+v with --batch 4, %+v with 1", i, four[i], r)
		}
		a, err := images.Load(filepath.Join(dir, "one", r.L))
		b, err2 := images.Load(filepath.Join(dir, "four", r.L))
		if err != nil || err2 != nil {
			t.Fatal(err, err2)
		}
		worst = max(worst, maxDiff(a.Pix, b.Pix))
	}
	t.Logf("largest difference between --batch 1 and 4: %g", worst)
	if worst > 1.0/255+1e-6 {
		t.Errorf("--batch 4 differs from --batch 1 by %g (tolerance one 8-bit level)", worst)
	}
}
