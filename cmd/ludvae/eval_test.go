package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/synth/degrade"
	"github.com/ludvae/ludvae/synth/metrics"
	"github.com/ludvae/ludvae/synth/noisestats"
)

// cliTestImage returns a w×h image of uniform random values.
func cliTestImage(w, h int, seed uint64) *images.Image {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := images.New(w, h)
	for i := range m.Pix {
		m.Pix[i] = float32(rng.Float64())
	}
	return m
}

// saveCLITestPNG writes m as an 8-bit PNG at dir/name, creating folders.
func saveCLITestPNG(t *testing.T, dir, name string, m *images.Image) string {
	t.Helper()
	p := filepath.Join(dir, name)
	testkit.WritePNG(t, p, testkit.Photo{W: m.W, H: m.H, Pix: m.Pix})
	return p
}

// runCLI runs a command function and returns its stdout and stderr.
func runCLI(t *testing.T, cmd func(args []string, stdout, stderr *bytes.Buffer) error, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := cmd(args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func evalRun(args []string, o, e *bytes.Buffer) error    { return evalCommand(args, o, e) }
func degradeRun(args []string, o, e *bytes.Buffer) error { return degradeCommand(args, o, e) }

type evalJSON struct {
	Images []struct {
		Name string
		PSNR *infFloat
		SSIM *float64
	}
	Mean struct {
		PSNR *infFloat
		SSIM *float64
	}
}

// infFloat reads a PSNR of eval's JSON: a number, or "inf" for identical
// images (float("inf") in Python).
type infFloat float64

func (f *infFloat) UnmarshalJSON(b []byte) error {
	if string(b) == `"inf"` {
		*f = infFloat(math.Inf(1))
		return nil
	}
	return json.Unmarshal(b, (*float64)(f))
}

func TestEvalMatchesMetricsAndPairsByName(t *testing.T) {
	dir := t.TempDir()
	rd, td := filepath.Join(dir, "restored"), filepath.Join(dir, "truth")
	var want []float64
	var wantSSIM []float64
	for i, name := range []string{"a", "b", "sub/c"} {
		truth := cliTestImage(40, 30, uint64(i))
		restored := applyDegrader(t, degrade.Gaussian{Sigma: float64(5 * (i + 1))}, truth, rand.New(rand.NewPCG(9, uint64(i))))
		saveCLITestPNG(t, td, name+".png", truth)
		saveCLITestPNG(t, rd, name+".png", restored)
		// The files hold 8-bit values; measure what was written.
		tr, _ := images.Load(filepath.Join(td, name+".png"))
		re, _ := images.Load(filepath.Join(rd, name+".png"))
		p, _ := metrics.PSNRImage(re, tr, 0)
		s, _ := metrics.SSIMImage(re, tr, 0)
		want, wantSSIM = append(want, p), append(wantSSIM, s)
	}
	saveCLITestPNG(t, rd, "only_restored.png", cliTestImage(8, 8, 5))
	saveCLITestPNG(t, td, "only_truth.png", cliTestImage(8, 8, 6))

	stdout, stderr, err := runCLI(t, evalRun, "--restored", rd, "--truth", td, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var doc evalJSON
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout)
	}
	names := []string{"a", "b", "sub/c"}
	if len(doc.Images) != 3 {
		t.Fatalf("%d images measured, want 3: %s", len(doc.Images), stdout)
	}
	var mp, ms float64
	for i, im := range doc.Images {
		if im.Name != names[i] || math.Abs(float64(*im.PSNR)-want[i]) > 1e-9 || math.Abs(*im.SSIM-wantSSIM[i]) > 1e-9 {
			t.Errorf("image %d: %s %.6f %.6f, want %s %.6f %.6f", i, im.Name, float64(*im.PSNR), *im.SSIM, names[i], want[i], wantSSIM[i])
		}
		mp += want[i] / 3
		ms += wantSSIM[i] / 3
	}
	if math.Abs(float64(*doc.Mean.PSNR)-mp) > 1e-9 || math.Abs(*doc.Mean.SSIM-ms) > 1e-9 {
		t.Errorf("mean %.6f/%.6f, want %.6f/%.6f", float64(*doc.Mean.PSNR), *doc.Mean.SSIM, mp, ms)
	}
	for _, s := range []string{"only_restored", "only_truth"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("unmatched %q not reported on stderr:\n%s", s, stderr)
		}
	}

	// The table has a row per image and the mean.
	stdout, _, err = runCLI(t, evalRun, "--restored", rd, "--truth", td)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"sub/c", "mean of 3", "PSNR (dB)", "SSIM"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("table lacks %q:\n%s", s, stdout)
		}
	}
}

func TestEvalIdenticalBorderAndY(t *testing.T) {
	dir := t.TempDir()
	rd, td := filepath.Join(dir, "r"), filepath.Join(dir, "t")
	truth := cliTestImage(32, 32, 1)
	restored := truth.Clone()
	restored.Set(0, 5, 1, 1-truth.At(0, 5, 1)) // differs only in the 1-pixel border
	saveCLITestPNG(t, td, "x.png", truth)
	saveCLITestPNG(t, rd, "x.jpg.png", restored) // key "x.jpg"
	saveCLITestPNG(t, rd, "x.png", restored)
	stdout, _, err := runCLI(t, evalRun, "--restored", rd, "--truth", td, "--json", "--border", "1")
	if err != nil {
		t.Fatal(err)
	}
	var doc evalJSON
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	// Identical inside the border: PSNR +Inf is written as "inf", which
	// null (SSIM n/a) cannot be mistaken for, SSIM 1.
	if len(doc.Images) != 1 || doc.Images[0].PSNR == nil || !math.IsInf(float64(*doc.Images[0].PSNR), 1) ||
		doc.Mean.PSNR == nil || !math.IsInf(float64(*doc.Mean.PSNR), 1) || math.Abs(*doc.Images[0].SSIM-1) > 1e-12 {
		t.Errorf("identical images after border: %s", stdout)
	}
	if !strings.Contains(stdout, `"psnr": "inf"`) {
		t.Errorf(`identical images: no "psnr": "inf" in %s`, stdout)
	}
	stdout, _, err = runCLI(t, evalRun, "--restored", rd, "--truth", td, "--json")
	if err != nil {
		t.Fatal(err)
	}
	doc = evalJSON{}
	json.Unmarshal([]byte(stdout), &doc)
	if doc.Images[0].PSNR == nil || math.IsInf(float64(*doc.Images[0].PSNR), 0) {
		t.Errorf("border 0 should see the changed pixel: %s", stdout)
	}

	// KAIR's Y: white is 235, black 16 (BT.601 studio range); a grey
	// (10, 200, 30) is round((654.81+25710.6+748.98)/255+16) = 122.
	if y := kairY([]uint8{255, 255, 255, 0, 0, 0, 10, 200, 30}); y[0] != 235 || y[1] != 16 || y[2] != 122 {
		t.Errorf("kairY = %v, want [235 16 122]", y)
	}
	stdout, _, err = runCLI(t, evalRun, "--restored", rd, "--truth", td, "--json", "--y")
	if err != nil {
		t.Fatal(err)
	}
	doc = evalJSON{}
	json.Unmarshal([]byte(stdout), &doc)
	tr, _ := images.Load(filepath.Join(td, "x.png"))
	re, _ := images.Load(filepath.Join(rd, "x.png"))
	want := metrics.PSNRUint8(kairY(images.ToUint8(re)), kairY(images.ToUint8(tr)), 32, 32, 1, 0)
	if doc.Images[0].PSNR == nil || math.Abs(float64(*doc.Images[0].PSNR)-want) > 1e-9 {
		t.Errorf("--y PSNR %v, want %.6f", doc.Images[0].PSNR, want)
	}
}

// TestEvalLowPass checks --lowpass: a uniform colour shift survives the
// blur unchanged (a constant image blurs to itself, so the PSNR is that of
// the shift, 20·log10(255/10) for 10 grey levels), while pixel noise is
// mostly removed (the PSNR rises by far more than the 0.1 dB quantization
// could explain).
func TestEvalLowPass(t *testing.T) {
	dir := t.TempDir()
	rd, td, nd := filepath.Join(dir, "r"), filepath.Join(dir, "t"), filepath.Join(dir, "n")
	grey, shifted, noisy := images.New(24, 24), images.New(24, 24), images.New(24, 24)
	noise := cliTestImage(24, 24, 7)
	for i := range grey.Pix {
		grey.Pix[i] = 100.0 / 255
		shifted.Pix[i] = 110.0 / 255
		noisy.Pix[i] = grey.Pix[i] + (noise.Pix[i]-0.5)*0.2
	}
	saveCLITestPNG(t, td, "x.png", grey)
	saveCLITestPNG(t, rd, "x.png", shifted)
	saveCLITestPNG(t, nd, "x.png", noisy)
	psnr := func(restored string, extra ...string) float64 {
		t.Helper()
		stdout, _, err := runCLI(t, evalRun, append([]string{"--restored", restored, "--truth", td, "--json"}, extra...)...)
		if err != nil {
			t.Fatal(err)
		}
		var doc evalJSON
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Images) != 1 || doc.Images[0].PSNR == nil {
			t.Fatalf("%v: %s", err, stdout)
		}
		return float64(*doc.Images[0].PSNR)
	}
	want := 20 * math.Log10(255.0/10)
	if got := psnr(rd, "--lowpass", "2"); math.Abs(got-want) > 1e-9 {
		t.Errorf("colour shift, --lowpass 2: PSNR %.6f, want %.6f", got, want)
	}
	if raw, low := psnr(nd), psnr(nd, "--lowpass", "2"); low < raw+10 {
		t.Errorf("noise: PSNR %.2f dB raw, %.2f dB low-passed; want the blur to remove most of it (+10 dB)", raw, low)
	}
}

func TestEvalErrors(t *testing.T) {
	dir := t.TempDir()
	rd, td := filepath.Join(dir, "r"), filepath.Join(dir, "t")
	a := saveCLITestPNG(t, rd, "a.png", cliTestImage(20, 20, 1))
	b := saveCLITestPNG(t, td, "a.png", cliTestImage(20, 21, 1))
	_, _, err := runCLI(t, evalRun, "--restored", rd, "--truth", td)
	if err == nil || !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Errorf("size mismatch: error %v should name %s and %s", err, a, b)
	}
	other := filepath.Join(dir, "o")
	saveCLITestPNG(t, other, "zzz.png", cliTestImage(4, 4, 1))
	if _, _, err := runCLI(t, evalRun, "--restored", rd, "--truth", other); err == nil || !strings.Contains(err.Error(), "no image") {
		t.Errorf("no pairs: error %v", err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--truth", td}, "--restored"},
		{[]string{"--restored", rd}, "--truth"},
		{[]string{"--restored", rd, "--truth", td, "--border", "-1"}, "--border"},
		{[]string{"--restored", filepath.Join(dir, "missing"), "--truth", td}, "--restored"},
		{[]string{"--restored", rd, "--truth", td, "extra"}, "extra"},
		{[]string{"--restored", rd, "--truth", rd, "--border", "10"}, "--border"},
		{[]string{"--restored", rd, "--truth", td, "--lowpass", "-1"}, "--lowpass"},
	} {
		if _, _, err := runCLI(t, evalRun, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.args, err, c.want)
		}
	}
	dup := filepath.Join(dir, "dup")
	saveCLITestPNG(t, dup, "a.png", cliTestImage(4, 4, 1))
	saveCLITestPNG(t, dup, "a.tif.png", cliTestImage(4, 4, 1))
	os.Rename(filepath.Join(dup, "a.tif.png"), filepath.Join(dup, "a.jpg"))
	if _, _, err := runCLI(t, evalRun, "--restored", dup, "--truth", td); err == nil || !strings.Contains(err.Error(), "same name") {
		t.Errorf("a.png and a.jpg in one folder: error %v", err)
	}
}

func TestEvalHelpListsEveryFlag(t *testing.T) {
	for _, c := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"--help"}, []string{"--restored", "--truth", "--border", "--json", "--y", "--workers", "--lowpass", "eval noise"}},
		{[]string{"noise", "--help"}, []string{"--synthetic", "--real", "--clean", "--bins", "--plot", "--json", "--workers", "(default 16)"}},
	} {
		_, stderr, err := runCLI(t, evalRun, c.args...)
		if !errors.Is(err, pflag.ErrHelp) {
			t.Errorf("%v: returned %v, want pflag.ErrHelp (main exits 0 on it)", c.args, err)
		}
		for _, f := range c.flags {
			if !strings.Contains(stderr, f) {
				t.Errorf("%v: usage lacks %q:\n%s", c.args, f, stderr)
			}
		}
	}
}

type noiseJSON struct {
	Pairs   int
	Sources []struct {
		Name  string
		Stats struct {
			StdAll   *float64     `json:"std_all"`
			BinStd   [][]*float64 `json:"bin_std"`
			CorrMean []*float64   `json:"corr_mean"`
		}
		VsReal *struct {
			KLAll *float64 `json:"kl_all"`
			AKLD  *float64 `json:"akld"`
			KLD   *float64 `json:"kld"`
		} `json:"vs_real"`
	}
}

func TestEvalNoise(t *testing.T) {
	dir := t.TempDir()
	cd, rd := filepath.Join(dir, "clean"), filepath.Join(dir, "real")
	gd, sd := filepath.Join(dir, "out", "gaussian"), filepath.Join(dir, "out", "same")
	cam := degrade.DefaultCamera()
	cam.JPEGQuality = 0
	for i := range 3 {
		name := []string{"p1.png", "p2.png", "p3.png"}[i]
		clean := cliTestImage(96, 64, uint64(10+i))
		for j := range clean.Pix { // smooth it: a mid-grey with mild texture
			clean.Pix[j] = 0.3 + 0.4*clean.Pix[j]
		}
		saveCLITestPNG(t, cd, name, clean)
		real := applyDegrader(t, cam, clean, rand.New(rand.NewPCG(1, uint64(i))))
		saveCLITestPNG(t, rd, name, real)
		saveCLITestPNG(t, sd, name, real)
		saveCLITestPNG(t, gd, name, applyDegrader(t, degrade.Gaussian{Sigma: 15}, clean, rand.New(rand.NewPCG(2, uint64(i)))))
	}
	saveCLITestPNG(t, gd, "extra.png", cliTestImage(8, 8, 1))
	plot := filepath.Join(dir, "noise.png")
	args := []string{"noise", "--clean", cd, "--real", rd, "--synthetic", gd, "--synthetic", sd, "--bins", "8", "--plot", plot}
	stdout, stderr, err := runCLI(t, evalRun, append(args, "--json")...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "extra") {
		t.Errorf("unmatched extra.png not reported:\n%s", stderr)
	}
	var doc noiseJSON
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if doc.Pairs != 3 || len(doc.Sources) != 3 {
		t.Fatalf("pairs %d, sources %d:\n%s", doc.Pairs, len(doc.Sources), stdout)
	}
	real, gauss, same := doc.Sources[0], doc.Sources[1], doc.Sources[2]
	if real.Name != "real" || gauss.Name != "gaussian" || same.Name != "same" || real.VsReal != nil {
		t.Errorf("sources %q %q %q", real.Name, gauss.Name, same.Name)
	}
	if *same.VsReal.KLAll != 0 || *same.Stats.StdAll != *real.Stats.StdAll {
		t.Errorf("a copy of the real noise: KL %v std %v vs %v", *same.VsReal.KLAll, *same.Stats.StdAll, *real.Stats.StdAll)
	}
	if !(*gauss.VsReal.KLAll > 0.01) {
		t.Errorf("AWGN vs camera noise: KL %v, want clearly > 0", *gauss.VsReal.KLAll)
	}
	if *same.VsReal.AKLD != 0 || *same.VsReal.KLD != 0 {
		t.Errorf("a copy of the real noise: AKLD %v KLD %v, want 0", *same.VsReal.AKLD, *same.VsReal.KLD)
	}
	// The CLI's AKLD/KLD are noisestats' per-image values (checked against
	// OpenCV/numpy there) averaged over the three images.
	want := fieldOfFiles(t, cd, rd, gd, []string{"p1.png", "p2.png", "p3.png"})
	if math.Abs(*gauss.VsReal.AKLD-want.AKLD) > 1e-12 || math.Abs(*gauss.VsReal.KLD-want.KLD) > 1e-12 {
		t.Errorf("AWGN vs camera noise: AKLD %v KLD %v, want %v %v", *gauss.VsReal.AKLD, *gauss.VsReal.KLD, want.AKLD, want.KLD)
	}
	if !(want.AKLD > 0.01 && want.KLD > 0.01) {
		t.Errorf("AWGN vs camera noise: AKLD %v KLD %v, want clearly > 0", want.AKLD, want.KLD)
	}
	if c := *real.Stats.CorrMean[0]; !(c > 0.5) {
		t.Errorf("camera noise lag-1 correlation %.3f, want > 0.5", c)
	}
	if c := *gauss.Stats.CorrMean[0]; math.Abs(c) > 0.03 {
		t.Errorf("AWGN lag-1 correlation %.3f, want ≈ 0", c)
	}
	if s := *gauss.Stats.StdAll; math.Abs(s-15) > 0.5 {
		t.Errorf("AWGN σ=15 measured as %.3f", s)
	}
	if len(real.Stats.BinStd) != 3 || len(real.Stats.BinStd[0]) != 8 || real.Stats.BinStd[0][0] != nil {
		t.Errorf("bin std: want 3 channels × 8 bins, null where the clean image has no values (bin 0)")
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("plot: %v", err)
	}

	stdout, _, err = runCLI(t, evalRun, args...)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"real", "gaussian", "same", "std G [0.375,0.500)", "corr horiz lag 1 R", "KL all", "summary", "std curve RMSE", "AKLD (DANet)", "KLD (NAFlow, 256 bins)"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("table lacks %q:\n%s", s, stdout)
		}
	}

	// A synthetic image of the wrong size is an error naming both files.
	bad := filepath.Join(dir, "bad")
	bp := saveCLITestPNG(t, bad, "p1.png", cliTestImage(10, 10, 1))
	_, _, err = runCLI(t, evalRun, "noise", "--clean", cd, "--real", rd, "--synthetic", bad)
	if err == nil || !strings.Contains(err.Error(), bp) || !strings.Contains(err.Error(), filepath.Join(cd, "p1.png")) {
		t.Errorf("size mismatch: %v", err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"noise", "--clean", cd, "--real", rd}, "--synthetic"},
		{[]string{"noise", "--clean", cd, "--synthetic", gd}, "--real"},
		{[]string{"noise", "--real", rd, "--synthetic", gd}, "--clean"},
		{[]string{"noise", "--clean", cd, "--real", rd, "--synthetic", gd, "--bins", "0"}, "--bins"},
	} {
		if _, _, err := runCLI(t, evalRun, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.args, err, c.want)
		}
	}
}

// fieldOfFiles is the mean AKLD/KLD of the synthetic folder's images
// against the real ones, measured by noisestats directly.
func fieldOfFiles(t *testing.T, clean, real, synth string, names []string) noisestats.Field {
	t.Helper()
	load := func(dir, name string) *images.Image {
		m, err := images.Load(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	var per []noisestats.Field
	for _, n := range names {
		c := load(clean, n)
		rn, err1 := noisestats.Noise(load(real, n), c)
		sn, err2 := noisestats.Noise(load(synth, n), c)
		f, err3 := noisestats.MeasureField(rn, sn)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		per = append(per, f)
	}
	return noisestats.MeanField(per)
}

// applyDegrader is d.Apply, failing the test on an error.
func applyDegrader(t *testing.T, d degrade.Degrader, img *images.Image, rng *rand.Rand) *images.Image {
	t.Helper()
	out, err := d.Apply(img, rng)
	if err != nil {
		t.Fatalf("%v: %v", d, err)
	}
	return out
}
