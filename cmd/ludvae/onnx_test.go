package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/model"
	"github.com/ludvae/ludvae/synth"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train/restore"
)

// The ONNX exports, run by an independent runtime (onnxruntime-node, the
// CPU runtime npm ships; `make deps` installs it) and checked by
// onnx.checker with full_check (Debian 12's python3-onnx 1.12).

// onRuntime runs f on a CPU runtime.
func onRuntime(t *testing.T, f func(rt *tb.Runtime) error) {
	t.Helper()
	err := tb.WithRuntime(func() (tb.Settings, error) { return tb.Settings{Device: tb.CPU}, nil }, func(rt *tb.Runtime) error {
		return rt.Do(func() error { return f(rt) })
	})
	if err != nil {
		t.Fatal(err)
	}
}

// maxDiff is the largest |a−b|.
func maxDiff(t *testing.T, a, b []float32) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d values against %d", len(a), len(b))
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

func photo(w, h int, seed uint64) *images.Image {
	p := testkit.SmoothPhoto(w, h, rand.New(rand.NewPCG(seed, 1)), testkit.Noise{Sigma: 0.03})
	return &images.Image{W: p.W, H: p.H, Pix: p.Pix}
}

// TestRestoreExportONNXAndPth: `restore export --onnx` gives what `restore
// test` computes (restore.Denoise, whole image) within 1e-5 under
// onnxruntime, and `--pth` a state dict that restore test's loader reads
// back value for value, that KAIR's DnCNN class (model/python/dncnn_ref.py)
// loads with strict=True, and that satisfies spandrel's DnCNN detection
// (DnCNNArch: the keys it requires for act_mode "BR", and the depth it
// infers from the Sequential's length). The network has batch statistics
// from one training step, so the running mean and variance are not the
// initial 0 and 1.
func TestRestoreExportONNXAndPth(t *testing.T) {
	dir := t.TempDir()
	src, onnx, pth := filepath.Join(dir, "d.pth"), filepath.Join(dir, "d.onnx"), filepath.Join(dir, "kair.pth")
	cfg := model.DnCNNConfig{Channels: 3, Features: 16, Layers: 6}
	img := photo(40, 24, 3)
	onRuntime(t, func(*tb.Runtime) error {
		m, err := model.NewDnCNN(cfg, tb.Options{}, 7)
		if err != nil {
			return err
		}
		defer m.Close()
		return tb.Try(func() {
			tb.WithScope(func(*tb.Scope) {
				x := tb.Rand([]int64{2, 3, 16, 16}, tb.Options{}, nil)
				if _, _, err := m.Loss(x, x, model.DnCNNL2); err != nil {
					panic(err)
				}
			})
			if err := m.SaveStateDict(src); err != nil {
				panic(err)
			}
		})
	})
	var log bytes.Buffer
	if err := restoreExport([]string{"--model", src, "--onnx", onnx, "--pth", pth}, &log); err != nil {
		t.Fatal(err)
	}
	t.Log(strings.TrimSpace(log.String()))
	t.Log(testkit.CheckONNX(t, onnx))
	var want *images.Image
	onRuntime(t, func(*tb.Runtime) error {
		m, err := model.LoadDnCNN(src, tb.Options{})
		if err != nil {
			return err
		}
		defer m.Close()
		if want, err = restore.Denoise(m, img, 0); err != nil {
			return err
		}
		k, err := model.LoadDnCNN(pth, tb.Options{})
		if err != nil {
			return fmt.Errorf("restore test's loader on --pth: %w", err)
		}
		defer k.Close()
		a, b := m.StateDict(), k.StateDict()
		return tb.Try(func() {
			tb.WithScope(func(*tb.Scope) {
				for i, key := range a.Keys {
					x, y := a.Values[i].(*tb.Tensor), b.Values[i].(*tb.Tensor)
					if b.Keys[i] != key || x.ToDType(tb.Float64).Sub(y.ToDType(tb.Float64)).Abs().Sum().Item() != 0 {
						t.Errorf("--pth entry %d: %v differs from the model's %v", i, b.Keys[i], key)
					}
				}
			})
		})
	})
	got := testkit.RunONNX(t, onnx, img.Pix, [4]int{1, 3, img.H, img.W}, 1)[0]
	d := maxDiff(t, got, want.Pix)
	t.Logf("DnCNN: onnxruntime against restore test's Denoise: max |diff| %.3g", d)
	if d > 1e-5 {
		t.Errorf("onnxruntime's denoised image differs from restore test's by %.3g (tolerance 1e-5)", d)
	}
	out := testkit.RunPython(t, `
import sys, torch
from dncnn_ref import DnCNN
sd = torch.load(sys.argv[1])
DnCNN(3, 3, 16, 6).load_state_dict(sd, strict=True)
# spandrel's DnCNNArch: detection keys for act_mode "BR", then its size inference
need = ["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias", "model.3.weight", "model.3.bias",
        "model.3.running_mean", "model.3.running_var", "model.5.weight", "model.5.bias", "model.6.weight",
        "model.6.bias", "model.6.running_mean", "model.6.running_var", "model.8.weight", "model.8.bias"]
missing = [k for k in need if k not in sd]
layers = max(int(k.split(".")[1]) for k in sd if k.startswith("model.")) + 1
nb = (layers - 3) // 3 + 2
print("missing=%s in_nc=%d nc=%d nb=%d out_nc=%d" % (missing, sd["model.0.weight"].shape[1], sd["model.0.weight"].shape[0], nb, sd["model.%d.weight" % (layers - 1)].shape[0]))
`, pth)
	if out != "missing=[] in_nc=3 nc=16 nb=6 out_nc=3" {
		t.Errorf("KAIR / spandrel reading of --pth: %s", out)
	}
}

// exportGenerator runs `ludvae export --onnx` with extra flags and checks
// the file with onnx.checker.
func exportGenerator(t *testing.T, ckpt string, flags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "g.onnx")
	if err := runExport(append([]string{"--model", ckpt, "--onnx", out}, flags...)); err != nil {
		t.Fatal(err)
	}
	t.Log(testkit.CheckONNX(t, out))
	return out
}

// synthOutputs runs synth's Translate (what `ludvae synth` computes for
// one image, whole-image tile) for each of records.
func synthOutputs(t *testing.T, o synth.Options, ckpt string, img *images.Image, recs []synth.Record) [][]float32 {
	t.Helper()
	var outs [][]float32
	onRuntime(t, func(rt *tb.Runtime) error {
		m, err := model.Load(ckpt, tb.Options{})
		if err != nil {
			return err
		}
		defer m.Close()
		for _, r := range recs {
			y, err := o.Translate(context.Background(), rt, m, img, r)
			if err != nil {
				return err
			}
			outs = append(outs, y.Pix)
		}
		return nil
	})
	return outs
}

var officialF8 = filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth")

// TestExportONNXTemperatureZero: at σx 0 and temperature 0 the generator
// is deterministic; onnxruntime's output equals synth's within 1e-5, with
// and without the colour map back to the degraded statistics (AIM19's),
// and so does --mode n2c's clean estimate (its input mapped to the clean
// statistics).
func TestExportONNXTemperatureZero(t *testing.T) {
	img := photo(36, 28, 5)
	for _, c := range []struct{ mode, norm string }{{"c2n", "none"}, {"c2n", "aim19"}, {"n2c", "aim19"}} {
		flags := []string{"--sigma", "0", "--normalization", c.norm, "--mode", c.mode}
		if c.mode == "c2n" {
			flags = append(flags, "--temperature", "0")
		}
		g := exportGenerator(t, officialF8, flags...)
		o := synth.Defaults()
		o.SigmaMin, o.SigmaMax, o.Temperature, o.Tile, o.Mode = 0, 0, 0, 0, c.mode
		if c.norm == "aim19" {
			n := model.AIM19Normalization
			o.Norm = &n
		}
		want := synthOutputs(t, o, officialF8, img, []synth.Record{{Sigma: 0, Temperature: 0, Seed: 1}})[0]
		runs := testkit.RunONNX(t, g, img.Pix, [4]int{1, 3, img.H, img.W}, 2)
		for i, got := range runs {
			d := maxDiff(t, got, want)
			t.Logf("%s, normalization %s, run %d: onnxruntime against synth at temperature 0: max |diff| %.3g", c.mode, c.norm, i, d)
			if d > 1e-5 {
				t.Errorf("%s, normalization %s: onnxruntime differs from synth by %.3g (tolerance 1e-5)", c.mode, c.norm, d)
			}
		}
	}
}

// TestExportONNXDownscale: an SR model's generator takes the HR image and
// makes synth's LR input inside the graph (cropped to a multiple of the
// scale, MATLAB's antialiased bicubic, rounded to 8 bits): at σx 0 and
// temperature 0, onnxruntime's output for an odd-sized HR image equals
// synth's (images.Downscale8 of the crop, then Translate) within 1e-5.
func TestExportONNXDownscale(t *testing.T) {
	img := photo(37, 29, 9)
	for _, s := range []int{2, 4} {
		g := filepath.Join(t.TempDir(), "sr.onnx")
		onRuntime(t, func(*tb.Runtime) error {
			m, err := model.Load(officialF8, tb.Options{})
			if err != nil {
				return err
			}
			defer m.Close()
			return m.ExportONNX(g, model.GeneratorONNX{Downscale: s})
		})
		t.Log(testkit.CheckONNX(t, g))
		lr := images.Downscale8(img.Crop(0, 0, img.W/s*s, img.H/s*s), s)
		o := synth.Defaults()
		o.SigmaMin, o.SigmaMax, o.Temperature, o.Tile = 0, 0, 0, 0
		want := synthOutputs(t, o, officialF8, lr, []synth.Record{{Seed: 1}})[0]
		got := testkit.RunONNX(t, g, img.Pix, [4]int{1, 3, img.H, img.W}, 1)[0]
		d := maxDiff(t, got, want)
		t.Logf("×%d: %dx%d -> %dx%d: onnxruntime against synth: max |diff| %.3g", s, img.W, img.H, lr.W, lr.H, d)
		if d > 1e-5 {
			t.Errorf("×%d: onnxruntime differs from synth by %.3g (tolerance 1e-5)", s, d)
		}
	}
}

// noiseStats are one output's statistics of its noise n = output − clean:
// per intensity bin of the clean value (four bins of [0, 1]) the mean and
// the standard deviation of n, and the lag-1 correlation of n along rows.
func noiseStats(out, clean []float32, w int) []float64 {
	const bins = 4
	var sum, sq, cnt [bins]float64
	for i, c := range clean {
		b := min(int(c*bins), bins-1)
		n := float64(out[i] - c)
		sum[b] += n
		sq[b] += n * n
		cnt[b]++
	}
	var st []float64
	for b := range bins {
		m := sum[b] / cnt[b]
		st = append(st, m, math.Sqrt(sq[b]/cnt[b]-m*m))
	}
	var all, n0, n1, n00, n11, n01, k float64
	for i := range clean {
		all += float64(out[i] - clean[i])
	}
	mean := all / float64(len(clean))
	for i := range clean {
		if (i+1)%w == 0 {
			continue
		}
		a, b := float64(out[i]-clean[i])-mean, float64(out[i+1]-clean[i+1])-mean
		n0, n1, n00, n11, n01, k = n0+a, n1+b, n00+a*a, n11+b*b, n01+a*b, k+1
	}
	return append(st, (n01/k-n0/k*n1/k)/math.Sqrt((n00/k-n0*n0/k/k)*(n11/k-n1*n1/k/k)))
}

// TestExportONNXNoiseStatistics: with sampling on (σx uniform in 30–70 per
// image, as the checkpoints' default range, drawn by the graph's
// RandomUniformLike and by synth's records; temperature 1), the noise of
// 32 onnxruntime runs and of 32 synth runs (seeds 1–32) has
// the same statistics (noiseStats): for each, the difference of the two
// means over the runs is within noiseTolSE standard errors, the standard error
// from the spread between runs (sqrt(var_a/32 + var_b/32)), which is
// honest about the noise being correlated within an image. onnxruntime's
// draws are unseeded (the file makes fresh noise every run), so this half
// is random: with 9 statistics and t(31) tails, a false alarm comes about
// once in 5,000 runs at 5 SE (once in 300 at 4). As a control of the
// test's power, a generator exported at temperature 0.7 is told apart
// from synth's at 1 (some statistic more than noiseTolSE off; measured
// about 23).
func TestExportONNXNoiseStatistics(t *testing.T) {
	const noiseTolSE = 5
	const runs = 32
	img := photo(48, 40, 11)
	o := synth.Defaults()
	o.SigmaMin, o.SigmaMax, o.Temperature, o.Tile = 30, 70, 1, 0
	rng := rand.New(rand.NewPCG(3, 4))
	recs := make([]synth.Record, runs)
	for i := range recs {
		recs[i] = synth.Record{Sigma: 30 + 40*rng.Float64(), Temperature: 1, Seed: uint64(i + 1)}
	}
	want := synthOutputs(t, o, officialF8, img, recs)
	for _, temp := range []string{"1", "0.7"} {
		g := exportGenerator(t, officialF8, "--sigma", "30,70", "--temperature", temp)
		worst := statsApart(t, want, testkit.RunONNX(t, g, img.Pix, [4]int{1, 3, img.H, img.W}, runs), img)
		t.Logf("ONNX at temperature %s against synth at 1: largest difference %.2f SE", temp, worst)
		if temp == "1" && !(worst <= noiseTolSE) {
			t.Errorf("onnxruntime's noise statistics are %.2f standard errors from synth's (tolerance %d)", worst, noiseTolSE)
		}
		if temp != "1" && !(worst > noiseTolSE) {
			t.Errorf("control: temperature %s is only %.2f standard errors from synth's at 1; the test cannot tell them apart", temp, worst)
		}
	}
}

// statsApart logs noiseStats's means over the runs of a (synth) and b
// (onnxruntime) and returns the largest difference in standard errors.
func statsApart(t *testing.T, a, b [][]float32, img *images.Image) float64 {
	names := []string{"mean0", "std0", "mean1", "std1", "mean2", "std2", "mean3", "std3", "lag1"}
	var mean, variance [2][]float64
	for s, outs := range [2][][]float32{a, b} {
		n := float64(len(outs))
		mean[s], variance[s] = make([]float64, len(names)), make([]float64, len(names))
		for _, out := range outs {
			for j, v := range noiseStats(out, img.Pix, img.W) {
				mean[s][j] += v / n
				variance[s][j] += v * v / n
			}
		}
		for j := range names {
			variance[s][j] = (variance[s][j] - mean[s][j]*mean[s][j]) * n / (n - 1) / n // of the mean
		}
	}
	worst := 0.0
	for j, name := range names {
		se := math.Sqrt(variance[0][j] + variance[1][j])
		z := math.Abs(mean[0][j]-mean[1][j]) / se
		worst = max(worst, z)
		t.Logf("%s: synth %.5f, onnxruntime %.5f, SE %.2g: %.2f SE", name, mean[0][j], mean[1][j], se, z)
	}
	return worst
}
