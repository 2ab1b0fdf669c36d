package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train/restore"
)

// parseRestoreTrain returns the configuration `ludvae restore train args`
// would run.
func parseRestoreTrain(args ...string) (restore.Config, string, error) {
	var got restore.Config
	var log bytes.Buffer
	err := restoreCommand(append([]string{"train"}, args...), &log, func(_ context.Context, c restore.Config, _ io.Writer) error {
		got = c
		return nil
	})
	return got, log.String(), err
}

func TestRestoreTrainFlags(t *testing.T) {
	cfg, _, err := parseRestoreTrain("--pairs", "data", "--out", "run")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.L != filepath.Join("data", "L") || cfg.H != filepath.Join("data", "H") || cfg.Clean != "" {
		t.Errorf("--pairs data: L %q H %q clean %q", cfg.L, cfg.H, cfg.Clean)
	}
	// The LUD-VAE authors' SIDD DnCNN options.
	if cfg.Patch != 40 || cfg.Batch != 64 || cfg.LR != 1e-4 || !slices.Equal(cfg.LRMilestones, []int{25000}) ||
		cfg.LRGamma != 0.5 || cfg.Loss != "l1" || cfg.Features != 64 || cfg.Layers != 17 {
		t.Errorf("defaults %+v are not the authors' recipe", cfg)
	}
	cfg, _, err = parseRestoreTrain("--clean", "c", "--sigma", "0,50", "--out", "run")
	if err != nil || cfg.Clean != "c" || cfg.Sigma != [2]float64{0, 50} {
		t.Errorf("--clean c --sigma 0,50: %+v, %v", cfg, err)
	}
	cfg, _, err = parseRestoreTrain("--clean", "c", "--sigma", "25", "--out", "run")
	if err != nil || cfg.Sigma != [2]float64{25, 25} {
		t.Errorf("--sigma 25: %v, %v", cfg.Sigma, err)
	}
	cfg, _, err = parseRestoreTrain("--clean", "c", "--ludvae", "m.pth", "--sigma-x", "20,40", "--out", "run")
	if err != nil || cfg.LUDVAE != "m.pth" || cfg.SynthSigma != [2]float64{20, 40} {
		t.Errorf("--ludvae m.pth --sigma-x 20,40: %+v, %v", cfg, err)
	}
	if cfg.Normalization != "checkpoint" {
		t.Errorf("--normalization defaults to %q, want checkpoint", cfg.Normalization)
	}
	if cfg.Override {
		t.Error("--override is on without the flag")
	}
	if cfg, _, err = parseRestoreTrain("--pairs", "data", "--out", "run", "--override"); err != nil || !cfg.Override {
		t.Errorf("--override: %v, %v", cfg.Override, err)
	}
	cfg, _, err = parseRestoreTrain("--clean", "c", "--ludvae", "m.pth", "--normalization", "none", "--out", "run")
	if err != nil || cfg.Normalization != "none" {
		t.Errorf("--normalization none: %q, %v", cfg.Normalization, err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--clean", "c", "--out", "run"}, "--sigma"},
		{[]string{"--clean", "c", "--sigma", "1,2,3", "--out", "run"}, "--sigma"},
		{[]string{"--out", "run", "extra"}, "unexpected argument"},
	} {
		if _, _, err := parseRestoreTrain(c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to mention %s", c.args, err, c.want)
		}
	}
	if err := restoreCommand(nil, io.Discard, nil); err == nil {
		t.Error("restore without a subcommand: no error")
	}
	if err := restoreCommand([]string{"test", "--in", "x"}, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "--model") {
		t.Errorf("restore test without --model: %v", err)
	}
}

// TestRestoreEndToEnd trains a tiny denoiser on pairs through the CLI,
// resumes it, and denoises a folder with its checkpoint: one PNG per
// input, of the input's size.
func TestRestoreEndToEnd(t *testing.T) {
	dir := t.TempDir()
	pairs := filepath.Join(dir, "pairs")
	for i, name := range []string{"a.png", "b.png"} {
		clean := cliTestImage(48, 40, uint64(20+i))
		saveCLITestPNG(t, filepath.Join(pairs, "H"), name, clean)
		noisy := clean.Clone()
		for j := range noisy.Pix {
			noisy.Pix[j] = 0.9*noisy.Pix[j] + 0.05
		}
		saveCLITestPNG(t, filepath.Join(pairs, "L"), name, noisy)
	}
	run := filepath.Join(dir, "run")
	flags := []string{"train", "--pairs", pairs, "--out", run, "--features", "8", "--layers", "4", "--patch", "16",
		"--batch", "4", "--save-every", "2", "--log-every", "1", "--device", "cpu"}
	for _, steps := range []string{"2", "4"} {
		var log bytes.Buffer
		if err := restoreCommand(append(flags, "--steps", steps), &log, restoreRun); err != nil {
			t.Fatalf("--steps %s: %v\n%s", steps, err, log.String())
		}
		if steps == "4" && !strings.Contains(log.String(), "resuming from") {
			t.Errorf("second run did not resume:\n%s", log.String())
		}
	}
	// A resume with another --lr is refused, naming it with both values.
	err := restoreCommand(append(flags, "--steps", "6", "--lr", "0.001"), io.Discard, restoreRun)
	if err == nil || !strings.Contains(err.Error(), "--lr 0.0001 in the run, 0.001 in this command") || !strings.Contains(err.Error(), "--override") {
		t.Errorf("resume with another --lr: %v", err)
	}
	out := filepath.Join(dir, "den")
	if err := restoreCommand([]string{"test", "--model", filepath.Join(run, "dncnn_00000004.pth"), "--in", filepath.Join(pairs, "L"),
		"--out", out, "--tile", "24", "--device", "cpu"}, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.png", "b.png"} {
		m, err := images.Load(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if m.W != 48 || m.H != 40 {
			t.Errorf("%s: denoised to %dx%d, want 48x40", name, m.W, m.H)
		}
	}

	// The exported TorchScript denoises as restore test does (before its
	// 8-bit rounding: within half a grey level).
	pt := filepath.Join(dir, "dncnn.pt")
	if err := restoreCommand([]string{"export", "--model", filepath.Join(run, "dncnn_00000004.pth"), "--torchscript", pt}, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	// 0644 and no temporary file left, as `export`'s outputs (the module
	// was once written 0600).
	if st, err := os.Stat(pt); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("%s: %v, %v; want mode -rw-r--r--", pt, st, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 4 {
		t.Errorf("%s holds %d entries, want pairs, run, den and dncnn.pt: %v", dir, len(ents), ents)
	}
	sm, err := tb.LoadScriptModule(pt, tb.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	in, err := images.Load(filepath.Join(pairs, "L", "a.png"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := images.Load(filepath.Join(out, "a.png"))
	if err != nil {
		t.Fatal(err)
	}
	err = tb.Try(func() {
		tb.WithScope(func(*tb.Scope) {
			got := sm.Call("forward", []*tb.Tensor{tb.FromSlice(in.Pix, 1, 3, 40, 48)}).Float32s()
			for i, v := range got {
				if d := min(max(v, 0), 1) - want.Pix[i]; d > 0.5/255+1e-6 || d < -0.5/255-1e-6 {
					t.Fatalf("value %d: TorchScript %v, restore test %v", i, v, want.Pix[i])
				}
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}
