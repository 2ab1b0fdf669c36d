package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/synth"
)

// TestSynthSigmaDefaults: C2N takes the σx range of the checkpoint (SIDD's
// [30, 70] for a plain state dict); N2C adds no h-noise, as the authors'
// main_test.py (L_noise_level = 0); the flags override both.
func TestSynthSigmaDefaults(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writePhotos(t, in, 2, 24, 20, false, 4)
	plain := filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth")
	cases := []struct {
		name     string
		args     []string
		min, max float64
	}{
		{"c2n", nil, 30, 70},
		{"n2c", []string{"--mode", "n2c"}, 0, 0},
		{"n2c with --sigma-max", []string{"--mode", "n2c", "--sigma-max", "5"}, 0, 5},
		{"c2n with both", []string{"--sigma-min", "12", "--sigma-max", "12"}, 12, 12},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.Repeat("o", i+1))
			args := append([]string{"--model", plain, "--clean", in, "--out", out, "--device", "cpu"}, c.args...)
			if err := runSynth(args); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(out, synth.Manifest))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) != 2 {
				t.Fatalf("manifest has %d records, want 2", len(lines))
			}
			for _, l := range lines {
				var r synth.Record
				if err := json.Unmarshal([]byte(l), &r); err != nil {
					t.Fatal(err)
				}
				if r.Sigma < c.min || r.Sigma > c.max {
					t.Errorf("%s: σ %g outside [%g, %g]", r.L, r.Sigma, c.min, c.max)
				}
				if want := map[string]float64{"c2n": 1, "n2c": 0}[r.Mode]; r.Temperature != want {
					t.Errorf("%s (%s): temperature %g recorded, want %g", r.L, r.Mode, r.Temperature, want)
				}
			}
		})
	}
}

// TestSynthTemperatureRange: with --temperature-max each image draws its
// temperature uniformly from the range (the authors' DnD data), recorded in
// the manifest, the same for the same seed; without it, the one value.
func TestSynthTemperatureRange(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writePhotos(t, in, 6, 24, 20, false, 5)
	plain := filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth")
	temps := func(out string, extra ...string) []float64 {
		args := append([]string{"--model", plain, "--clean", in, "--out", filepath.Join(dir, out), "--device", "cpu"}, extra...)
		if err := runSynth(args); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, out, synth.Manifest))
		if err != nil {
			t.Fatal(err)
		}
		var ts []float64
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r synth.Record
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			ts = append(ts, r.Temperature)
		}
		return ts
	}
	a := temps("a", "--temperature", "1", "--temperature-max", "3")
	b := temps("b", "--temperature", "1", "--temperature-max", "3")
	distinct := map[float64]bool{}
	for i, v := range a {
		if v < 1 || v > 3 || v != b[i] {
			t.Errorf("image %d: temperature %g (again %g), want one value in [1, 3]", i, v, b[i])
		}
		distinct[v] = true
	}
	if len(distinct) < len(a) {
		t.Errorf("temperatures %v: not drawn per image", a)
	}
	for _, v := range temps("c", "--temperature", "0.7") {
		if v != 0.7 {
			t.Errorf("without a range: temperature %g, want 0.7", v)
		}
	}
	for _, bad := range [][]string{{"--temperature", "2", "--temperature-max", "1"}, {"--mode", "n2c", "--temperature-max", "3"}} {
		err := runSynth(append([]string{"--model", plain, "--clean", in, "--out", filepath.Join(dir, "d")}, bad...))
		if err == nil || !strings.Contains(err.Error(), "--temperature-max") {
			t.Errorf("%v: got %v, want an error naming --temperature-max", bad, err)
		}
	}
}

// TestSynthShardsCLI: three shards chosen the three ways a cluster says
// which task a process is (--shard, a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX with --shards, a Slurm array starting at 1), then
// --merge, give the unsharded run's folder byte for byte.
func TestSynthShardsCLI(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writePhotos(t, in, 5, 24, 20, false, 4)
	model := filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth")
	args := func(out string, extra ...string) []string {
		return append([]string{"--model", model, "--clean", in, "--out", out, "--device", "cpu", "--samples", "2", "--seed", "9"}, extra...)
	}
	ref, out := filepath.Join(dir, "ref"), filepath.Join(dir, "sharded")
	if err := runSynth(args(ref)); err != nil {
		t.Fatal(err)
	}
	shards := []struct {
		env   []string
		extra []string
	}{
		{nil, []string{"--shard", "0/3"}},
		{[]string{"JOB_COMPLETION_INDEX", "1"}, []string{"--shards", "3"}},
		{[]string{"SLURM_ARRAY_TASK_ID", "3", "SLURM_ARRAY_TASK_MIN", "1", "SLURM_ARRAY_TASK_COUNT", "3"}, nil},
	}
	for i, s := range shards {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			for j := 0; j < len(s.env); j += 2 {
				t.Setenv(s.env[j], s.env[j+1])
			}
			if err := runSynth(args(out, s.extra...)); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(out, fmt.Sprintf("manifest-shard-%d-of-3.jsonl", i))); err != nil {
				t.Error(err)
			}
		})
	}
	if err := runSynth(args(out, "--merge")); err != nil {
		t.Fatal(err)
	}
	got, want := folderFiles(t, out), folderFiles(t, ref)
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("%s: the merged shards differ from the unsharded run", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok && !strings.HasPrefix(name, "manifest-shard-") {
			t.Errorf("%s: not in the unsharded run", name)
		}
	}
}

// TestSynthBadValues: non-finite real flags, a stray argument and a model
// with a NaN weight are refused, naming the flag, before --out is made;
// export refuses that model too.
func TestSynthBadValues(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writePhotos(t, in, 1, 24, 20, false, 4)
	model := filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth")
	out := filepath.Join(dir, "out")
	base := []string{"--model", model, "--clean", in, "--out", out, "--device", "cpu"}
	for _, c := range [][]string{
		{"--temperature", "NaN"}, {"--temperature-max", "+Inf"}, {"--sigma-min", "nan"}, {"--sigma-max", "Inf"}, {"stray"},
	} {
		err := runSynth(append(append([]string{}, base...), c...))
		if err == nil || !strings.Contains(err.Error(), c[0]) {
			t.Errorf("%v: got %v, want an error naming %s", c, err, c[0])
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("--out was made by a refused command")
	}
	nan := filepath.Join(dir, "nan.pth")
	testkit.RunPython(t, `
import sys, torch
sd = torch.load(sys.argv[1])
sd["dec_2.net.4.weight"][0, 0, 1, 1] = float("nan")
torch.save(sd, sys.argv[2])
`, model, nan)
	err := runSynth([]string{"--model", nan, "--clean", in, "--out", out, "--device", "cpu"})
	if err == nil || !strings.Contains(err.Error(), "dec_2.net.4.weight") {
		t.Errorf("synth with a NaN weight: got %v", err)
	}
	err = runExport([]string{"--model", nan, "--pth", filepath.Join(dir, "x.pth")})
	if err == nil || !strings.Contains(err.Error(), "dec_2.net.4.weight") {
		t.Errorf("export with a NaN weight: got %v", err)
	}
	if _, serr := os.Stat(filepath.Join(dir, "x.pth")); serr == nil {
		t.Errorf("export wrote a model with a NaN weight")
	}
}
