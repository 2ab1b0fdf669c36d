package main

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/testkit"
)

// writePhotos writes n generated RGB images, p00.png …: smooth colour
// fields (testkit.SmoothPhoto), with spatially correlated noise when noisy
// is set.
func writePhotos(t *testing.T, dir string, n, w, h int, noisy bool, seed uint64) {
	t.Helper()
	var noise testkit.Noise
	if noisy {
		noise = testkit.Noise{Sigma: 0.08, Corr: 0.6}
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	testkit.WritePhotos(t, dir, n, "p%02d.png", func(int) testkit.Photo { return testkit.SmoothPhoto(w, h, rng, noise) })
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
	rows := testkit.ReadCSV(t, filepath.Join(run, "log.csv"))
	if len(rows) != 61 {
		t.Fatalf("log.csv: %d rows, want 61", len(rows))
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
	got := testkit.RunPython(t, `
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
	src := filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth")
	pth := filepath.Join(dir, "m.pth")
	if err := runExport([]string{"--model", src, "--pth", pth, "--torchscript", filepath.Join(dir, "g.pt")}); err != nil {
		t.Fatal(err)
	}
	got := testkit.RunPython(t, `
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
