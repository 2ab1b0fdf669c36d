package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/torchbind/pyref"
)

// writePhotos writes n generated RGB images: smooth colour fields, with
// spatially correlated noise when noisy is set.
func writePhotos(t *testing.T, dir string, n, w, h int, noisy bool, seed uint64) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range n {
		m := images.New(w, h)
		fx, fy := 1+3*rng.Float64(), 1+3*rng.Float64()
		for c := range 3 {
			prev := 0.0
			for y := range h {
				for x := range w {
					v := 0.5 + 0.3*math.Sin(fx*float64(x)/float64(w)*math.Pi+float64(c))*math.Cos(fy*float64(y)/float64(h)*math.Pi)
					if noisy {
						prev = 0.6*prev + 0.08*rng.NormFloat64()
						v += prev
					}
					m.Set(x, y, c, float32(min(max(v, 0), 1)))
				}
			}
		}
		if err := images.SavePNG(filepath.Join(dir, fmt.Sprintf("p%02d.png", i)), m, 8); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTrainThenSynthesize trains a tiny model through the CLI (8 filters,
// 32×32 crops, 60 steps on generated images), checks the loss falls,
// reloads the checkpoint and synthesizes with it, and exports it.
func TestTrainThenSynthesize(t *testing.T) {
	dir := t.TempDir()
	clean, noisy, run := filepath.Join(dir, "clean"), filepath.Join(dir, "noisy"), filepath.Join(dir, "run")
	writePhotos(t, clean, 4, 48, 40, false, 1)
	writePhotos(t, noisy, 4, 40, 48, true, 2)
	err := runTrain([]string{"--clean", clean, "--noisy", noisy, "--out", run, "--filters", "8", "--patch", "32",
		"--batch", "4", "--steps", "60", "--lr", "1e-3", "--log-every", "1", "--save-every", "30", "--sample-every", "30",
		"--device", "cpu", "--seed", "3"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(run, "log.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 61 {
		t.Fatalf("log.csv: %d rows, %v", len(rows), err)
	}
	mean := func(rs [][]string) float64 {
		s := 0.0
		for _, r := range rs {
			v, _ := strconv.ParseFloat(r[1], 64)
			s += v
		}
		return s / float64(len(rs))
	}
	first, last := mean(rows[1:11]), mean(rows[51:61])
	if !(last < 0.5*first) {
		t.Fatalf("loss did not fall: first ten steps %.4f, last ten %.4f", first, last)
	}
	t.Logf("mean loss, first ten steps %.4f, last ten %.4f", first, last)
	ckpt := filepath.Join(run, "ckpt_00000060.pth")
	out := filepath.Join(dir, "synth")
	if err := runSynth([]string{"--model", ckpt, "--clean", clean, "--out", out, "--device", "cpu", "--seed", "1"}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		l, err := images.Load(filepath.Join(out, "L", fmt.Sprintf("p%02d.png", i)))
		if err != nil || l.W != 48 || l.H != 40 {
			t.Fatalf("synthetic image %d: %v %v", i, l, err)
		}
	}
	// The exported files load in Python: the TorchScript generator and the
	// plain state dict, strictly, into the reference class.
	pt, pth := filepath.Join(dir, "g.pt"), filepath.Join(dir, "m.pth")
	if err := runExport([]string{"--model", ckpt, "--torchscript", pt, "--pth", pth}); err != nil {
		t.Fatal(err)
	}
	got := pyref.Run(t, `
import sys, torch
from ludvae_ref import LUDVAE
m = LUDVAE(3, 8, 3)
m.load_state_dict(torch.load(sys.argv[2]), strict=True)
g = torch.jit.load(sys.argv[1])
y = g(torch.rand(2, 3, 16, 16), torch.tensor([30.0, 50.0]))
print(tuple(y.shape))
`, pt, pth)
	if got != "(2, 3, 16, 16)" {
		t.Fatalf("python: %s", got)
	}
}

// TestExportAuthorsStateDict exports the authors' plain state dict.
func TestExportAuthorsStateDict(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(pyref.Root(), "testdata", "official", "f8_state_dict.pth")
	pth := filepath.Join(dir, "m.pth")
	if err := runExport([]string{"--model", src, "--pth", pth, "--torchscript", filepath.Join(dir, "g.pt")}); err != nil {
		t.Fatal(err)
	}
	got := pyref.Run(t, `
import sys, torch
a, b = torch.load(sys.argv[1]), torch.load(sys.argv[2])
print(list(a) == list(b), max(float((a[k].float() - b[k]).abs().max()) for k in a))
`, src, pth)
	if got != "True 0.0" {
		t.Fatalf("exported state dict vs the authors': %s", got)
	}
	if err := runExport([]string{"--model", filepath.Join(dir, "missing.pth"), "--pth", pth}); err == nil {
		t.Fatal("a missing --model was accepted")
	}
}
