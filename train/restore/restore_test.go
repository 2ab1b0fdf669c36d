package restore

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// randomImage is a w×h image of uniform values, quantized to 8 bits as a
// saved PNG is.
func randomImage(w, h int, seed uint64) *images.Image {
	p := testkit.RandomPhoto(w, h, rand.New(rand.NewPCG(seed, 1)))
	return &images.Image{W: p.W, H: p.H, Pix: p.Pix}
}

// writePairs writes n pairs under dir/L and dir/H where L = 1 − H, so that
// a crop pair is aligned exactly when noisy = 1 − clean everywhere.
func writePairs(t *testing.T, dir string, n int) {
	for _, sub := range []string{"L", "H"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		h := randomImage(40+8*i, 36+4*i, uint64(i))
		l := h.Clone()
		for j, v := range l.Pix {
			l.Pix[j] = 1 - v
		}
		name := fmt.Sprintf("img%d.png", i)
		testkit.WritePNG(t, filepath.Join(dir, "H", name), testkit.Photo{W: h.W, H: h.H, Pix: h.Pix})
		testkit.WritePNG(t, filepath.Join(dir, "L", name), testkit.Photo{W: l.W, H: l.H, Pix: l.Pix})
	}
}

// pairsDir is a new folder with two pairs written by writePairs.
func pairsDir(t *testing.T) string {
	dir := t.TempDir()
	writePairs(t, dir, 2)
	return dir
}

// ludvaeDir is pairsDir with a LUD-VAE (writeLUDVAE) saved in it too, at
// the path ck.
func ludvaeDir(t *testing.T) (dir, ck string) {
	dir = pairsDir(t)
	ck = filepath.Join(dir, "ludvae.pth")
	writeLUDVAE(t, ck)
	return dir, ck
}

// smallConfig is a denoiser run small enough for the 2-core machine.
func smallConfig(dir string) Config {
	cfg := Defaults()
	cfg.L, cfg.H, cfg.Out = filepath.Join(dir, "L"), filepath.Join(dir, "H"), filepath.Join(dir, "run")
	cfg.Features, cfg.Layers, cfg.Patch, cfg.Batch = 8, 4, 16, 4
	cfg.Steps, cfg.SaveEvery, cfg.LogEvery, cfg.Device = 6, 3, 1, "cpu"
	cfg.LRMilestones = []int{4}
	return cfg
}

// TestPairedCropsAlign: every crop pair comes from the same image, place
// and flip/rotation (L = 1 − H holds crop by crop), and the draws cover
// every image of the set.
func TestPairedCropsAlign(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writePairs(t, dir, 3)
	cfg := smallConfig(dir)
	d, err := LoadData(&cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Noisy) != 3 || len(d.Clean) != 3 {
		t.Fatalf("%d noisy and %d clean images, want 3 pairs", len(d.Noisy), len(d.Clean))
	}
	for s := 1; s <= 20; s++ {
		b := d.MakeBatch(&cfg, s)
		for i, v := range b.Clean {
			if math.Abs(float64(b.Noisy[i]+v-1)) > 1e-6 {
				t.Fatalf("step %d: value %d: noisy %v is not 1 − clean %v", s, i, b.Noisy[i], v)
			}
		}
		again := d.MakeBatch(&cfg, s)
		if fmt.Sprint(again.Clean[:32]) != fmt.Sprint(b.Clean[:32]) {
			t.Fatalf("step %d: the batch is not a function of (seed, step)", s)
		}
	}
}

// TestGaussianBatches: with --clean and --sigma the noise is zero-mean
// Gaussian of the given σ (0–255 scale). 64 crops of 16×16×3 values give
// the std to within 5 standard errors (1/√(2n) relative).
func TestGaussianBatches(t *testing.T) {
	t.Parallel()
	clean := []*images.Image{randomImage(48, 40, 1)}
	for _, s := range [][2]float64{{25, 25}, {0, 50}} {
		d := &Data{Clean: clean, Sigma: s}
		cfg := Defaults()
		cfg.Patch, cfg.Batch = 16, 64
		b := d.MakeBatch(&cfg, 1)
		var sum, sq float64
		for i, v := range b.Noisy {
			e := 255 * float64(v-b.Clean[i])
			sum += e
			sq += e * e
		}
		n := float64(len(b.Noisy))
		// Uniform σ in [a, b] gives E[σ²] = (a² + ab + b²)/3.
		want := math.Sqrt((s[0]*s[0] + s[0]*s[1] + s[1]*s[1]) / 3)
		got := math.Sqrt(sq/n - (sum/n)*(sum/n))
		// A σ range adds the spread of 64 per-crop σ: 20 % covers it.
		tol := 5 * want / math.Sqrt(2*n)
		if s[0] != s[1] {
			tol = 0.2 * want
		}
		if math.Abs(got-want) > tol || math.Abs(sum/n) > 5*want/math.Sqrt(n) {
			t.Errorf("σ %v: noise std %.3f mean %.3f, want %.3f ± %.3f and 0", s, got, sum/n, want, tol)
		}
	}
}

// TestResumeMatchesUninterrupted: 6 steps in one go, and 3 steps then a
// resume to 6, end with the same network, bit for bit (CPU), and the same
// log.
func TestResumeMatchesUninterrupted(t *testing.T) {
	t.Parallel()
	dir := pairsDir(t)
	full := smallConfig(dir)
	full.Out = filepath.Join(dir, "full")
	if err := restoreRun(context.Background(), full, io.Discard); err != nil {
		t.Fatal(err)
	}
	half := smallConfig(dir)
	half.Out = filepath.Join(dir, "half")
	half.Steps = 3
	if err := restoreRun(context.Background(), half, io.Discard); err != nil {
		t.Fatal(err)
	}
	half.Steps = 6
	if err := restoreRun(context.Background(), half, io.Discard); err != nil {
		t.Fatal(err)
	}
	a := loadNet(t, filepath.Join(full.Out, "dncnn_00000006.pth"))
	defer a.Close()
	b := loadNet(t, filepath.Join(half.Out, "dncnn_00000006.pth"))
	defer b.Close()
	sa, sb := a.StateDict(), b.StateDict()
	for i, k := range sa.Keys {
		x, y := sa.Values[i].(*tb.Tensor).Float64s(), sb.Values[i].(*tb.Tensor).Float64s()
		if fmt.Sprint(x) != fmt.Sprint(y) {
			t.Fatalf("%v differs between the resumed and the uninterrupted run", k)
		}
	}
	if la, lb := losses(t, full.Out), losses(t, half.Out); la != lb {
		t.Errorf("log.csv losses: uninterrupted %s, resumed %s", la, lb)
	}
}

func loadNet(t *testing.T, path string) *model.DnCNN {
	t.Helper()
	m, err := model.LoadDnCNN(path, tb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// losses is log.csv's step and loss columns.
func losses(t *testing.T, dir string) string {
	var out []string
	for _, f := range testkit.ReadCSV(t, filepath.Join(dir, "log.csv")) {
		out = append(out, f[0]+":"+f[1])
	}
	return strings.Join(out, " ")
}

// TestDenoiseTiledEqualsWhole: tiles with the receptive-field margin give
// the whole-image result (float32 rounding only: 1e-5). The weights are
// scaled to gain 1 (from KAIR's 0.2), so that a pixel at the edge of the
// receptive field moves the output by far more than the tolerance: with a
// margin one pixel short the test fails.
func TestDenoiseTiledEqualsWhole(t *testing.T) {
	t.Parallel()
	m, err := model.NewDnCNN(model.DnCNNConfig{Channels: 3, Features: 8, Layers: 5}, tb.Options{}, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	err = tb.Try(func() {
		tb.NoGrad(func() {
			for _, c := range m.Convs {
				w := c.Weight.MulScalar(5)
				c.Weight.CopyFrom(w)
				w.Close()
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	img := randomImage(45, 37, 9)
	whole, err := Denoise(m, img, 0)
	if err != nil {
		t.Fatal(err)
	}
	tiled, err := Denoise(m, img, 16)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range whole.Pix {
		if math.Abs(float64(v-tiled.Pix[i])) > 1e-5 {
			t.Fatalf("value %d: tiled %v, whole %v", i, tiled.Pix[i], v)
		}
	}
}

// TestCheckpointLoadsIntoReference: a training checkpoint's "model" loads
// into the eager reference (KAIR's layout) with strict=True, and there
// denoises an image as Denoise does here, in eval mode with the running
// statistics training left (float32 on both sides: 1e-5).
func TestCheckpointLoadsIntoReference(t *testing.T) {
	t.Parallel()
	dir := pairsDir(t)
	cfg := smallConfig(dir)
	cfg.Steps = 2
	if err := restoreRun(context.Background(), cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(cfg.Out, "dncnn_00000002.pth")
	m := loadNet(t, ckpt)
	defer m.Close()
	img := randomImage(20, 12, 3)
	ours, err := Denoise(m, img, 0)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.pth")
	d := tb.NewDict()
	d.Set("x", tb.FromSlice(img.Pix, 1, 3, 12, 20))
	if err := tb.Save(in, d); err != nil {
		t.Fatal(err)
	}
	out := testkit.RunPython(t, `
import sys, torch, dncnn_ref
ck = torch.load(sys.argv[1])
sd = ck["model"]
convs = sorted(int(k.split(".")[1]) for k, v in sd.items() if k.endswith(".weight") and v.dim() == 4)
m = dncnn_ref.DnCNN(3, 3, sd["model.0.weight"].shape[0], len(convs))
m.load_state_dict(sd, strict=True)
m.eval()
with torch.no_grad():
    y = m(torch.load(sys.argv[2])["x"])
print(ck["step"], " ".join(repr(v) for v in y.flatten().tolist()))
`, ckpt, in)
	f := strings.Fields(out)
	if f[0] != "2" || len(f)-1 != len(ours.Pix) {
		t.Fatalf("python read step %s and %d values; want 2 and %d", f[0], len(f)-1, len(ours.Pix))
	}
	for i, s := range f[1:] {
		v, _ := strconv.ParseFloat(s, 64)
		if math.Abs(v-float64(ours.Pix[i])) > 1e-5 {
			t.Fatalf("value %d: python %v, ours %v", i, v, ours.Pix[i])
		}
	}
}

// writeLUDVAE saves a small LUD-VAE as the authors' plain state dict.
func writeLUDVAE(t *testing.T, path string) {
	m, err := model.New(model.Config{Channels: 3, Filters: 4, Levels: 2}, tb.Options{}, 11)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.SaveStateDict(path); err != nil {
		t.Fatal(err)
	}
}

// TestLUDVAEOnTheFly: with --ludvae each batch's degraded crops are the
// model's C2N of its clean crops (the plain state dict's temperature 1, the crop's σx, the
// step's counter-based noise), clamped to [0,1]: what the exported
// generator gives in Python, drawn reproducibly. σx defaults to SIDD's
// 30–70 for a plain state dict; two steps draw different degradations.
func TestLUDVAEOnTheFly(t *testing.T) {
	t.Parallel()
	cfg, deg, d, ref := onTheFly(t, false)
	defer deg.close()
	defer ref.Close()
	if cfg.SynthSigma != [2]float64{30, 70} {
		t.Fatalf("σx range %v, want the SIDD default 30–70", cfg.SynthSigma)
	}
	var first []float32
	for _, s := range []int{1, 2} {
		b := d.MakeBatch(&cfg, s)
		if b.Noisy != nil || len(b.SigmaX) != cfg.Batch {
			t.Fatalf("step %d: LUD-VAE batch with %d σx values and noisy crops %v", s, len(b.SigmaX), b.Noisy != nil)
		}
		for _, v := range b.SigmaX {
			if v < 30 || v > 70 {
				t.Fatalf("σx %v outside 30–70", v)
			}
		}
		got := degradesAs(t, deg, b, model.Noise{Seed: cfg.Seed, Stream: uint64(s)}, c2n{fmt.Sprintf("step %d's C2N", s), ref.Translate, 1}, nil)
		if s == 1 {
			first = got
		} else if fmt.Sprint(first[:16]) == fmt.Sprint(got[:16]) {
			t.Fatal("steps 1 and 2 drew the same degradation")
		}
	}
}

// onTheFly sets up LUD-VAE degradations of two generated photos by a
// generated checkpoint: the configuration, the degrader, the data, and the
// model loaded again on its own (float64) as the reference.
func onTheFly(t *testing.T, residual bool) (Config, *degrader, *Data, *model.LUDVAE) {
	t.Helper()
	dir, ck := ludvaeDir(t)
	cfg := smallConfig(dir)
	cfg.L, cfg.H, cfg.Clean, cfg.LUDVAE, cfg.Residual = "", "", filepath.Join(dir, "H"), ck, residual
	deg, err := loadDegrader(&cfg, tb.CPU)
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadData(&cfg, io.Discard)
	if err != nil {
		deg.close()
		t.Fatal(err)
	}
	ref, err := model.Load(ck, tb.Options{})
	if err != nil {
		deg.close()
		t.Fatal(err)
	}
	return cfg, deg, d, ref
}

// TestLUDVAEResidual: --residual degrades each crop as
// model.TranslateResidual (clamped), which differs from the plain C2N.
func TestLUDVAEResidual(t *testing.T) {
	cfg, deg, d, ref := onTheFly(t, true)
	defer deg.close()
	defer ref.Close()
	b := d.MakeBatch(&cfg, 1)
	noise := model.Noise{Seed: cfg.Seed, Stream: 1}
	degradesAs(t, deg, b, noise, c2n{"residual C2N", ref.TranslateResidual, 1}, &c2n{"the plain C2N", ref.Translate, 1})
}

// c2n is a C2N translation of the reference model at a temperature, named
// for the messages: ref.Translate or ref.TranslateResidual.
type c2n struct {
	name        string
	translate   func(clean, sigma *tb.Tensor, temperature float64, noise model.Noise) (*tb.Tensor, error)
	temperature float64
}

// degradesAs checks that deg degrades b's clean crops as want does with
// noise, clamped to [0,1], value for value, and, unless unlike is nil, not
// as unlike does (what the setting under test must change); it returns
// the degraded values.
func degradesAs(t *testing.T, deg *degrader, b Batch, noise model.Noise, want c2n, unlike *c2n) []float32 {
	t.Helper()
	var got []float32
	err := tb.Try(func() {
		tb.WithScope(func(*tb.Scope) {
			clean := tb.FromSlice(b.Clean, b.Shape()...)
			y, err := deg.degrade(clean, b)
			if err != nil {
				panic(err)
			}
			got = y.Float32s()
			w, err := want.translate(clean, tb.FromSlice(b.SigmaX), want.temperature, noise)
			if err != nil {
				panic(err)
			}
			for i, v := range w.Clamp(0, 1).Float32s() {
				if got[i] != v {
					t.Fatalf("value %d: on the fly %v, %s %v", i, got[i], want.name, v)
				}
			}
			if unlike == nil {
				return
			}
			u, err := unlike.translate(clean, tb.FromSlice(b.SigmaX), unlike.temperature, noise)
			if err != nil {
				panic(err)
			}
			if slices.Equal(got, u.Clamp(0, 1).Float32s()) {
				t.Fatalf("the degradation on the fly equals %s", unlike.name)
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestLUDVAENormalizationOverride: --normalization replaces the
// checkpoint's colour statistics (none for a plain state dict) with the
// named ones, and a value that is neither a name nor a readable file is
// an error that names the flag.
func TestLUDVAENormalizationOverride(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "ludvae.pth")
	writeLUDVAE(t, ck)
	for _, c := range []struct {
		spec string
		want *model.Normalization
	}{{"", nil}, {"checkpoint", nil}, {"none", nil}, {"aim19", &model.AIM19Normalization}} {
		cfg := smallConfig(dir)
		cfg.LUDVAE, cfg.Normalization = ck, c.spec
		deg, err := loadDegrader(&cfg, tb.CPU)
		if err != nil {
			t.Fatalf("--normalization %q: %v", c.spec, err)
		}
		if (deg.norm == nil) != (c.want == nil) || (c.want != nil && *deg.norm != *c.want) {
			t.Errorf("--normalization %q: statistics %+v, want %+v", c.spec, deg.norm, c.want)
		}
		deg.close()
	}
	cfg := smallConfig(dir)
	cfg.LUDVAE, cfg.Normalization = ck, filepath.Join(dir, "missing.json")
	if _, err := loadDegrader(&cfg, tb.CPU); err == nil || !strings.Contains(err.Error(), "--normalization") {
		t.Errorf("--normalization missing.json: error %v, want one naming the flag", err)
	}
}

// TestLUDVAEOnTheFlyResumes: training on LUD-VAE degradations resumes to
// the same network, bit for bit, as an uninterrupted run.
func TestLUDVAEOnTheFlyResumes(t *testing.T) {
	t.Parallel()
	dir, ck := ludvaeDir(t)
	run := func(out string, steps ...int) *model.DnCNN {
		for _, s := range steps {
			cfg := smallConfig(dir)
			cfg.L, cfg.H, cfg.Clean, cfg.LUDVAE = "", "", filepath.Join(dir, "H"), ck
			cfg.Out, cfg.Steps, cfg.SaveEvery = filepath.Join(dir, out), s, 2
			if err := restoreRun(context.Background(), cfg, io.Discard); err != nil {
				t.Fatal(err)
			}
		}
		return loadNet(t, filepath.Join(dir, out, "dncnn_00000004.pth"))
	}
	a, b := run("full", 4), run("half", 2, 4)
	defer a.Close()
	defer b.Close()
	sa, sb := a.StateDict(), b.StateDict()
	for i, k := range sa.Keys {
		if fmt.Sprint(sa.Values[i].(*tb.Tensor).Float64s()) != fmt.Sprint(sb.Values[i].(*tb.Tensor).Float64s()) {
			t.Fatalf("%v differs between the resumed and the uninterrupted run", k)
		}
	}
}

// restoreRun is Run as the command calls it: on a runtime of the configuration's
// settings, made for the run and closed after it.
func restoreRun(ctx context.Context, c Config, log io.Writer) error {
	return tb.WithRuntime(c.RuntimeSettings, func(rt *tb.Runtime) error { return Run(ctx, rt, c, log) })
}

// TestLUDVAECheckpointSynthesis: a ludvae checkpoint's synthesis entry
// sets the on-the-fly degradations as it sets `ludvae synth`'s: its σx
// range (unless --sigma-x is given), its temperature (0.5 here, which
// differs from the temperature-1 C2N), and its downscale: the clean
// images are downscaled ×2 (MATLAB bicubic to 8 bits) before cropping.
func TestLUDVAECheckpointSynthesis(t *testing.T) {
	t.Parallel()
	dir, plain := ludvaeDir(t)
	sd, err := tb.LoadDict(plain)
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "synthesis.pth")
	d := tb.NewDict()
	d.Set("model", sd)
	d.Set("synthesis", model.Synthesis{SigmaMin: 12, SigmaMax: 20, Temperature: 0.5, Downscale: 2}.Dict())
	err = tb.Save(ck, d)
	tb.CloseAll(sd)
	if err != nil {
		t.Fatal(err)
	}

	cfg := smallConfig(dir)
	cfg.L, cfg.H, cfg.Clean, cfg.LUDVAE = "", "", filepath.Join(dir, "H"), ck
	deg, err := loadDegrader(&cfg, tb.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer deg.close()
	if cfg.SynthSigma != [2]float64{12, 20} || deg.temperature != 0.5 {
		t.Fatalf("σx range %v, temperature %g; want the checkpoint's 12–20 and 0.5", cfg.SynthSigma, deg.temperature)
	}
	given := cfg
	given.SynthSigma = [2]float64{5, 6}
	if g, err := loadDegrader(&given, tb.CPU); err != nil || given.SynthSigma != [2]float64{5, 6} {
		t.Errorf("--sigma-x 5,6: range %v (%v), want it kept", given.SynthSigma, err)
	} else {
		g.close()
	}

	data, err := LoadData(&cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"img0.png", "img1.png"} {
		hr, err := images.Load(filepath.Join(dir, "H", name))
		if err != nil {
			t.Fatal(err)
		}
		want := images.Downscale8(hr, 2)
		if got := data.Clean[i]; got.W != want.W || got.H != want.H || fmt.Sprint(got.Pix) != fmt.Sprint(want.Pix) {
			t.Errorf("%s: clean image %dx%d, want its ×2 downscale %dx%d (%dx%d)", name, got.W, got.H, want.W, want.H, hr.W, hr.H)
		}
	}

	ref, err := model.Load(ck, tb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	b := data.MakeBatch(&cfg, 1)
	for _, v := range b.SigmaX {
		if v < 12 || v > 20 {
			t.Fatalf("σx %v outside the checkpoint's 12–20", v)
		}
	}
	noise := model.Noise{Seed: cfg.Seed, Stream: 1}
	degradesAs(t, deg, b, noise, c2n{"C2N at temperature 0.5", ref.Translate, 0.5}, &c2n{"C2N at temperature 1", ref.Translate, 1})
}

// TestBlockedLayoutRefused: DnCNN runs NCHW or NHWC only, so --layout
// blocked is refused by Validate, before any work, with the reason.
func TestBlockedLayoutRefused(t *testing.T) {
	cfg := smallConfig(t.TempDir())
	cfg.Layout = "blocked"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "--layout blocked: only LUD-VAE training") {
		t.Errorf("--layout blocked: %v, want a refusal naming the flag and why", err)
	}
	cfg.Layout = "nchw"
	if err := cfg.Validate(); err != nil {
		t.Errorf("--layout nchw: %v", err)
	}
}
