package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	tb "github.com/ludvae/ludvae/torchbind"
)

// TestBenchPrintsOneJSONLine runs both benchmarks on a small network and
// checks the line they print (the fields make bench and gpu-check read),
// and that bad flags are refused with the flag named.
func TestBenchPrintsOneJSONLine(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // --layout auto times both here
	// read back into the JSON line; set after the process started, it does
	// not change oneDNN's kernels here
	t.Setenv("ONEDNN_MAX_CPU_ISA", "")
	t.Setenv("DNNL_MAX_CPU_ISA", "AVX2")
	for _, c := range []struct {
		args         []string
		task, layout string
		batch, size  int
	}{
		{[]string{"train"}, "train", "auto", 4, 16},
		{[]string{"train", "--layout", "nchw", "--precision", "bf16"}, "train", "nchw", 4, 16},
		{[]string{"synth"}, "synth", "auto", 1, 16},
		{[]string{"synth", "--tile", "8", "--batch", "2", "--layout", "nhwc"}, "synth", "nhwc", 2, 16}, // 4 tiles an image, as synth --tile 8
	} {
		var out bytes.Buffer
		args := append(c.args, "--filters", "8", "--levels", "2", "--size", "16", "--iters", "2", "--warmup", "1", "--device", "cpu")
		if err := bench(args, &out); err != nil {
			t.Fatalf("bench %v: %v", c.args, err)
		}
		if n := strings.Count(out.String(), "\n"); n != 1 {
			t.Fatalf("bench %v printed %d lines: %q", c.args, n, out.String())
		}
		var r benchResult
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("bench %v: %v in %q", c.args, err, out.String())
		}
		// auto: one of those timed, with every timing (training: blocked
		// too, where oneDNN is on); forced: no timing
		blocked := c.task == "train" && tb.OneDNN()
		timed := r.LayoutNCHWMs > 0 && r.LayoutNHWCMs > 0 && blocked == (r.LayoutBlkMs > 0)
		chosen := r.Layout == "nchw" || r.Layout == "nhwc" || blocked && r.Layout == "blocked"
		if c.layout == "auto" && (!chosen || !timed) || c.layout != "auto" && (r.Layout != c.layout || r.LayoutNCHWMs+r.LayoutNHWCMs+r.LayoutBlkMs > 0) {
			t.Errorf("bench %v: layout %q, timings nchw %g ms, nhwc %g ms, blocked %g ms", c.args, r.Layout, r.LayoutNCHWMs, r.LayoutNHWCMs, r.LayoutBlkMs)
		}
		if r.CPU == "" || r.CPUCap == "" {
			t.Errorf("bench %v: no CPU model (%q) or libtorch instruction set (%q)", c.args, r.CPU, r.CPUCap)
		}
		if r.OneDNN != tb.OneDNN() || r.OneDNNMaxISA != "AVX2" {
			t.Errorf("bench %v: oneDNN %v (want %v), capped at %q (want the environment's AVX2)", c.args, r.OneDNN, tb.OneDNN(), r.OneDNNMaxISA)
		}
		if r.Impl != "ludvae" || r.Task != c.task || r.Batch != c.batch || r.Size != c.size ||
			r.Filters != 8 || r.Levels != 2 || r.Iters != 2 || r.Device != "cpu" || !(r.MsPer > 0) || !(r.CPUMsPer > 0) || !(r.PeakMiB > 0) {
			t.Errorf("bench %v: %+v", c.args, r)
		}
	}
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"train", "--layout", "nwhc"}, "--layout"},
		{[]string{"synth", "--layout", "blocked"}, "--layout blocked: only LUD-VAE training"},
		{[]string{"train", "--precision", "fp8"}, "--precision"},
		{[]string{"train", "--device", "tpu"}, "--device"},
		{[]string{"synth", "--tile", "-1"}, "--tile"},
		{[]string{"infer"}, "train or synth"},
	} {
		var out bytes.Buffer
		if err := bench(c.args, &out); err == nil || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("bench %v: error %v, want one naming %s", c.args, err, c.flag)
		}
	}
}
