package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train"
)

// TestExportNormalization: the exported generator carries the map back from
// the training colour statistics, taken from the checkpoint by default, from
// --normalization otherwise, and none for a plain state dict; bad values are
// refused naming the flag, by export and synth alike.
func TestExportNormalization(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth")
	stats := model.Normalization{CleanMean: [3]float64{0.5, 0.5, 0.5}, CleanStd: [3]float64{0.2, 0.2, 0.2},
		NoisyMean: [3]float64{0.4, 0.5, 0.6}, NoisyStd: [3]float64{0.1, 0.2, 0.4}}
	m, err := model.Load(plain, tb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opt := tb.NewAdam(m.Tensors(), tb.AdamConfig{LR: 1e-4, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	ckpt, err := train.SaveCheckpoint(dir, train.Checkpoint{Step: 1, Config: train.Defaults(), Norm: &stats}, m, opt, 1)
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	aim := model.AIM19Normalization.FromCleanMap()
	cases := []struct {
		name, model, spec string
		want              *model.ColourMap // nil: no map
	}{
		{"checkpoint's", ckpt, "checkpoint", stats.FromCleanMap()},
		{"overridden", ckpt, "aim19", aim},
		{"switched off", ckpt, "none", nil},
		{"plain state dict", plain, "checkpoint", nil},
		{"plain state dict, aim19", plain, "aim19", aim},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt := filepath.Join(dir, fmt.Sprintf("g%d.pt", i))
			if err := runExport([]string{"--model", c.model, "--torchscript", pt, "--normalization", c.spec}); err != nil {
				t.Fatal(err)
			}
			got := testkit.RunPython(t, `
import sys, torch
b = dict(torch.jit.load(sys.argv[1]).named_buffers())
print(" ".join(repr(float(v)) for k in ("out_scale", "out_shift") if k in b for v in b[k].flatten()) or "none")
`, pt)
			if c.want == nil {
				if got != "none" {
					t.Errorf("buffers %s, want none", got)
				}
				return
			}
			fs := strings.Fields(got)
			want := append(c.want.Scale[:], c.want.Shift[:]...)
			if len(fs) != len(want) {
				t.Fatalf("buffers %q, want %v", got, want)
			}
			for j, f := range fs {
				v, err := strconv.ParseFloat(f, 64)
				if err != nil || v != float64(float32(want[j])) { // stored as float32
					t.Errorf("buffer value %d: %s, want %v", j, f, float32(want[j]))
				}
			}
		})
	}
	bad := []string{"--model", ckpt, "--normalization", filepath.Join(dir, "absent.json")}
	for name, err := range map[string]error{
		"export": runExport(append(bad, "--torchscript", filepath.Join(dir, "x.pt"))),
		"synth":  runSynth(append(bad, "--clean", filepath.Join(dir, "in"), "--out", filepath.Join(dir, "o"))),
	} {
		if err == nil || !strings.Contains(err.Error(), "--normalization") {
			t.Errorf("%s with a missing --normalization file: got %v", name, err)
		}
	}
}
