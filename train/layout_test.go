package train

import (
	"bytes"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/layout"
	"github.com/ludvae/ludvae/internal/testkit"
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

// TestLayoutsTrainAlike: the same seeded run in NCHW and in channels-last
// logs the same losses within float32 rounding: every loss of 6 steps
// within 1e-4 relative (measured: a few 1e-7; the layouts order the
// convolutions' sums differently, and Adam carries the differences on;
// a wrong layout, e.g. weights read in the other order, moves a loss by
// percents). --layout auto runs the run in the layout it chose, so its
// losses equal that forced layout's digit for digit: the timing on a
// throwaway network changes nothing of the run's.
func TestLayoutsTrainAlike(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	base := tinyConfig(t)
	base.Steps, base.SaveEvery = 6, 6
	losses := map[string]map[string][3]float64{}
	logs := map[string]string{}
	for _, l := range []string{"nchw", "nhwc", "auto"} {
		c := base
		c.Out, c.Layout = filepath.Join(t.TempDir(), "run"), l
		var log bytes.Buffer
		if err := trainRun(t.Context(), c, io.MultiWriter(&log)); err != nil {
			t.Fatalf("--layout %s: %v\n%s", l, err, log.String())
		}
		losses[l], logs[l] = lossColumns(t, c.Out), log.String()
	}
	if !strings.Contains(logs["nchw"], "layout nchw (--layout)") || !strings.Contains(logs["auto"], "nhwc ") ||
		!strings.Contains(logs["auto"], "timed now") {
		t.Errorf("the logs do not name the layouts and timings:\nnchw: %s\nauto: %s", logs["nchw"], logs["auto"])
	}
	if len(losses["nchw"]) != base.Steps {
		t.Fatalf("%d logged steps, want %d", len(losses["nchw"]), base.Steps)
	}
	worst := 0.0
	for step, a := range losses["nchw"] {
		b := losses["nhwc"][step]
		for k := range a {
			r := math.Abs(a[k]-b[k]) / math.Abs(a[k])
			worst = max(worst, r)
			if !(r <= 1e-4) {
				t.Errorf("step %s loss %d: nchw %.8g, nhwc %.8g", step, k, a[k], b[k])
			}
		}
	}
	t.Logf("%d steps: largest relative difference of the losses between layouts %.3g", base.Steps, worst)
	chose := layout.NHWC
	if strings.Contains(logs["auto"], "layout nchw:") {
		chose = layout.NCHW
	}
	for step, a := range losses["auto"] {
		if a != losses[string(chose)][step] {
			t.Errorf("step %s: --layout auto (chose %s) logged %v, --layout %s %v", step, chose, a, chose, losses[string(chose)][step])
		}
	}
}
