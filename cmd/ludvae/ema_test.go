package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
)

// TestEMAWeightsChosen: a checkpoint trained with --ema is exported and
// synthesized with its weight average unless --weights trained says
// otherwise: export's --pth of each choice holds the checkpoint's "ema" or
// "model" entry (read by PyTorch), and synth with the checkpoint writes
// the same bytes as synth with the matching plain state dict.
func TestEMAWeightsChosen(t *testing.T) {
	dir := t.TempDir()
	clean, noisy, run := filepath.Join(dir, "clean"), filepath.Join(dir, "noisy"), filepath.Join(dir, "run")
	writePhotos(t, clean, 2, 40, 36, false, 1)
	writePhotos(t, noisy, 2, 36, 40, true, 2)
	err := runTrain([]string{"--clean", clean, "--noisy", noisy, "--out", run, "--filters", "8", "--levels", "2", "--patch", "16",
		"--batch", "4", "--steps", "6", "--lr", "1e-2", "--save-every", "6", "--sample-every", "0", "--device", "cpu", "--threads", "1",
		"--ema", "0.9"})
	if err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(run, "ckpt_00000006.pth")
	pth := map[string]string{}
	for _, w := range []string{"auto", "ema", "trained"} {
		pth[w] = filepath.Join(dir, w+".pth")
		if err := runExport([]string{"--model", ckpt, "--weights", w, "--pth", pth[w]}); err != nil {
			t.Fatal(err)
		}
	}
	got := testkit.RunPython(t, `
import sys, torch
d = torch.load(sys.argv[1])
def same(a, b): return all(torch.equal(a[k], b[k]) for k in a) and a.keys() == b.keys()
auto, ema, trained = (torch.load(p) for p in sys.argv[2:5])
print(same(auto, d["ema"]), same(ema, d["ema"]), same(trained, d["model"]), same(d["ema"], d["model"]))
`, ckpt, pth["auto"], pth["ema"], pth["trained"])
	if got != "True True True False" {
		t.Fatalf("python compared the exports with the checkpoint's entries: %q, want True True True False", got)
	}

	synth := func(name, model string, more ...string) []byte {
		out := filepath.Join(dir, name)
		args := append([]string{"--model", model, "--clean", clean, "--out", out, "--device", "cpu", "--threads", "1",
			"--seed", "1", "--sigma-min", "20", "--sigma-max", "20"}, more...)
		if err := runSynth(args); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "L", "p00.png"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	auto, trained := synth("s-auto", ckpt), synth("s-trained", ckpt, "--weights", "trained")
	if !bytes.Equal(auto, synth("s-ema-pth", pth["ema"])) {
		t.Error("synth of the checkpoint did not use its weight average")
	}
	if !bytes.Equal(trained, synth("s-trained-pth", pth["trained"])) {
		t.Error("synth --weights trained did not use the trained weights")
	}
	if bytes.Equal(auto, trained) {
		t.Error("the average and the trained weights synthesized the same bytes")
	}
	if err := runSynth([]string{"--model", pth["trained"], "--clean", clean, "--out", filepath.Join(dir, "x"), "--weights", "ema"}); err == nil ||
		!strings.Contains(err.Error(), "no weight average") {
		t.Errorf("synth --weights ema of a plain state dict: %v", err)
	}
	if err := runSynth([]string{"--model", ckpt, "--clean", clean, "--out", filepath.Join(dir, "y"), "--weights", "mean"}); err == nil ||
		!strings.Contains(err.Error(), "--weights") {
		t.Errorf("synth --weights mean: %v", err)
	}
}
