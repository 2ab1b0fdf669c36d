package train

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	tb "github.com/ludvae/ludvae/torchbind"
)

// lossColumns reads log.csv's total, reconstruction and KL losses by step.
func lossColumns(t *testing.T, dir string) map[string][3]float64 {
	t.Helper()
	rows := testkit.ReadCSV(t, filepath.Join(dir, "log.csv"))
	out := map[string][3]float64{}
	for _, r := range rows[1:] {
		var v [3]float64
		for k := range v {
			f, err := strconv.ParseFloat(r[1+k], 64)
			if err != nil {
				t.Fatalf("log.csv step %s column %d: %v", r[0], k+1, err)
			}
			v[k] = f
		}
		out[r[0]] = v
	}
	return out
}

// TestLayoutsTrainAlike: the same seeded run in NCHW, in channels-last and
// in oneDNN's blocked layout logs the same losses within float32 rounding:
// every loss of 6 steps within 1e-4 relative (measured: a few 1e-7; the
// layouts order the convolutions' sums differently, and Adam carries the
// differences on; a wrong layout, e.g. weights read in the other order,
// moves a loss by percents). --layout auto runs the run in the layout it
// chose, so its losses equal that forced layout's digit for digit: the
// timing on a throwaway network changes nothing of the run's. Where oneDNN
// is off the blocked layout is refused (TestBlockedLayoutNeedsOneDNN), so
// only the other two run.
func TestLayoutsTrainAlike(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	base := tinyConfig(t)
	base.Steps, base.SaveEvery = 6, 6
	losses := map[string]map[string][3]float64{}
	logs := map[string]string{}
	forced := []string{"nchw", "nhwc"}
	if tb.OneDNN() {
		forced = append(forced, "blocked")
	}
	for _, l := range append(forced, "auto") {
		c := base
		c.Out, c.Layout = filepath.Join(t.TempDir(), "run"), l
		var log bytes.Buffer
		if err := trainRun(t.Context(), c, io.MultiWriter(&log)); err != nil {
			t.Fatalf("--layout %s: %v\n%s", l, err, log.String())
		}
		losses[l], logs[l] = lossColumns(t, c.Out), log.String()
	}
	if !strings.Contains(logs["nchw"], "layout nchw (--layout)") || !strings.Contains(logs["auto"], "nhwc ") ||
		!strings.Contains(logs["auto"], "timed now") || tb.OneDNN() != strings.Contains(logs["auto"], "blocked ") {
		t.Errorf("the logs do not name the layouts and timings (oneDNN on: %v):\nnchw: %s\nauto: %s", tb.OneDNN(), logs["nchw"], logs["auto"])
	}
	if len(losses["nchw"]) != base.Steps {
		t.Fatalf("%d logged steps, want %d", len(losses["nchw"]), base.Steps)
	}
	for _, l := range forced[1:] {
		worst := 0.0
		for step, a := range losses["nchw"] {
			b := losses[l][step]
			for k := range a {
				r := math.Abs(a[k]-b[k]) / math.Abs(a[k])
				worst = max(worst, r)
				if !(r <= 1e-4) {
					t.Errorf("step %s loss %d: nchw %.8g, %s %.8g", step, k, a[k], l, b[k])
				}
			}
		}
		t.Logf("%d steps: largest relative difference of the losses between nchw and %s %.3g", base.Steps, l, worst)
	}
	var chose string
	for _, l := range forced {
		if strings.Contains(logs["auto"], "layout "+l+":") {
			chose = l
		}
	}
	if chose == "" {
		t.Fatalf("--layout auto's log names no choice: %s", logs["auto"])
	}
	for step, a := range losses["auto"] {
		if a != losses[chose][step] {
			t.Errorf("step %s: --layout auto (chose %s) logged %v, --layout %s %v", step, chose, a, chose, losses[chose][step])
		}
	}
}

// TestBlockedLayoutNeedsOneDNN: --layout blocked is refused before any
// work, naming why, on CUDA, in another precision than float32, and where
// the shim's load check turned oneDNN off; on the CPU in float32 with
// oneDNN on it is offered.
func TestBlockedLayoutNeedsOneDNN(t *testing.T) {
	cases := []struct {
		dev  tb.Device
		prec tb.Precision
		want string // in the reason; "" when it can run
	}{
		{tb.CUDA(0), tb.FP32, "for the CPU"},
		{tb.CPU, tb.BF16, "float32 only, not --precision bf16"},
		{tb.CPU, tb.FP32, map[bool]string{true: "", false: "oneDNN is off"}[tb.OneDNN()]},
	}
	for _, c := range cases {
		why := BlockedUnavailable(c.dev, c.prec)
		if c.want == "" && why != "" || c.want != "" && !strings.Contains(why, c.want) {
			t.Errorf("BlockedUnavailable(%s, %s) = %q, want %q", c.dev, c.prec, why, c.want)
		}
	}
	cfg := tinyConfig(t)
	cfg.Layout, cfg.Precision = "blocked", "bf16"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "--layout blocked: it runs float32 only") {
		t.Errorf("--layout blocked --precision bf16: %v, want the reason", err)
	}
	if tb.OneDNN() {
		return
	}
	cfg.Precision = "fp32"
	err := trainRun(t.Context(), cfg, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "oneDNN is off") {
		t.Errorf("--layout blocked without oneDNN: %v, want a refusal naming oneDNN", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, "log.csv")); err == nil {
		t.Errorf("the refused run wrote %s", filepath.Join(cfg.Out, "log.csv"))
	}
}
