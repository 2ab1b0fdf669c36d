package main

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBadValuesNamed: every command refuses a bad value naming the flag
// (or the stray argument) before any work: no output folder or file
// appears. Thread counts outside 0…4 per CPU, unknown devices and
// precisions, non-finite numbers and positional arguments a command does
// not take are all refused.
func TestBadValuesNamed(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	trainArgs := func(extra ...string) []string {
		return append([]string{"--clean", filepath.Join(dir, "c"), "--noisy", filepath.Join(dir, "n"), "--out", out, "--device", "cpu"}, extra...)
	}
	evalW := func(args []string) error { return evalCommand(args, io.Discard, io.Discard) }
	degradeW := func(args []string) error { return degradeCommand(args, io.Discard, io.Discard) }
	benchW := func(args []string) error { return bench(args, io.Discard) }
	restoreW := func(args []string) error { return restoreCommand(args, io.Discard, nil) }
	model := filepath.Join(dir, "m.pth") // never read: the checks come first
	cases := []struct {
		name string
		run  func([]string) error
		args []string
		want string
	}{
		{"train huge threads", runTrain, trainArgs("--threads", "100000"), "--threads 100000"},
		{"train negative threads", runTrain, trainArgs("--threads", "-1"), "--threads -1"},
		{"train NaN lr", runTrain, trainArgs("--lr", "NaN"), "--lr"},
		{"train infinite lr", runTrain, trainArgs("--lr", "Inf"), "--lr"},
		{"train NaN sigma-x", runTrain, trainArgs("--sigma-x", "NaN"), "--sigma-x"},
		{"train infinite sigma-y", runTrain, trainArgs("--sigma-y", "+Inf"), "--sigma-y"},
		{"train NaN kl-weight", runTrain, trainArgs("--kl-weight", "NaN"), "--kl-weight"},
		{"train infinite kl-weight", runTrain, trainArgs("--kl-weight", "Inf"), "--kl-weight"},
		{"train infinite lr-gamma", runTrain, trainArgs("--lr-gamma", "Inf"), "--lr-gamma"},
		{"train stray argument", runTrain, trainArgs("200000"), `unexpected argument "200000"`},
		{"synth huge threads", runSynth, []string{"--model", model, "--clean", dir, "--out", out, "--threads", "100000"}, "--threads"},
		{"synth stray argument", runSynth, []string{"--model", model, "--clean", dir, "--out", out, "x.png"}, `unexpected argument "x.png"`},
		{"export stray argument", runExport, []string{"--model", model, "--pth", filepath.Join(out, "x.pth"), "extra"}, `unexpected argument "extra"`},
		{"eval stray argument", evalW, []string{"--restored", dir, "--truth", dir, "extra"}, `unexpected argument "extra"`},
		{"eval noise stray argument", evalW, []string{"noise", "--real", dir, "--clean", dir, "--synthetic", dir, "extra"}, `unexpected argument "extra"`},
		{"degrade stray argument", degradeW, []string{"--in", dir, "--out", out, "extra"}, `unexpected argument "extra"`},
		{"version stray argument", runVersion, []string{"extra"}, `unexpected argument "extra"`},
		{"bench huge threads", benchW, []string{"train", "--threads", "100000"}, "--threads 100000"},
		{"bench negative threads", benchW, []string{"synth", "--threads", "-2"}, "--threads -2"},
		{"bench zero iterations", benchW, []string{"train", "--iters", "0"}, "--iters"},
		{"bench negative batch", benchW, []string{"train", "--batch", "-1"}, "--batch"},
		{"bench tiny size", benchW, []string{"synth", "--size", "2"}, "--size"},
		{"train unknown device", runTrain, trainArgs("--device", "tpu"), "--device"},
		{"train unknown precision", runTrain, trainArgs("--precision", "fp8"), "--precision"},
		{"synth unknown precision", runSynth, []string{"--model", model, "--clean", dir, "--out", out, "--precision", "fp16"}, "--precision"},
		{"synth unknown device", runSynth, []string{"--model", model, "--clean", dir, "--out", out, "--device", "cuda:x"}, "--device"},
		{"restore train huge threads", restoreW, []string{"train", "--pairs", dir, "--out", out, "--threads", "100000"}, "--threads 100000"},
		{"restore train unknown device", restoreW, []string{"train", "--pairs", dir, "--out", out, "--device", "tpu"}, "--device"},
		{"restore test negative threads", restoreW, []string{"test", "--model", model, "--in", dir, "--out", out, "--threads", "-1"}, "--threads -1"},
		{"restore test unknown device", restoreW, []string{"test", "--model", model, "--in", dir, "--out", out, "--device", "gpu"}, "--device"},
		{"bench threads not a number", benchW, []string{"train", "--threads", "many"}, "--threads"},
		{"montage huge zoom", runMontage, []string{"--out", filepath.Join(out, "m.png"), "--zoom", "100000", model}, "--zoom"},
		{"montage short crop", runMontage, []string{"--out", filepath.Join(out, "m.png"), "--crop", "1,2,3", model}, "--crop"},
		{"montage negative crop", runMontage, []string{"--out", filepath.Join(out, "m.png"), "--crop", "-1,0,8,8", model}, "--crop"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run(c.args)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ludvae %s: got %v, want an error naming %q", strings.Join(c.args, " "), err, c.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatalf("%s exists after the refusal: work started", out)
			}
		})
	}
}

// TestThreadsWithinCapAccepted: the cap is not a refusal of ordinary
// values: 0, 1 and 4 per CPU pass the train check.
func TestThreadsWithinCapAccepted(t *testing.T) {
	for _, n := range []int{0, 1, 4 * runtime.NumCPU()} {
		if err := checkThreads(n); err != nil {
			t.Errorf("--threads %d refused: %v", n, err)
		}
	}
	if err := checkThreads(4*runtime.NumCPU() + 1); err == nil {
		t.Errorf("--threads %d accepted", 4*runtime.NumCPU()+1)
	}
}
