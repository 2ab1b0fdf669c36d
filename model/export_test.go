package model

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestTorchScriptGenerator exports the C2N generator and runs it in Python:
// with σ = 0 and temperature 0 it must equal the Go model within 1e-6; with
// noise on, it draws from torch's RNG (seeded runs repeat, others differ).
func TestTorchScriptGenerator(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, in := filepath.Join(dir, "gen.pt"), filepath.Join(dir, "in.pth")
	for _, levels := range []int{1, 3} {
		m, err := New(Config{Channels: 3, Filters: 8, Levels: levels}, tb.Options{}, 21)
		must(t, err)
		must(t, m.ExportTorchScript(path, nil))
		var ours []float64
		tb.WithScope(func(*tb.Scope) {
			mustTry(t, func() {
				g := tb.NewGenerator(2, tb.CPU)
				defer g.Close()
				clean := tb.Rand([]int64{2, 3, 12, 10}, tb.Options{}, g)
				out, err := m.Translate(clean, tb.Zeros([]int64{2}, tb.Options{}), 0, Noise{Seed: 1})
				must(t, err)
				ours = out.Float64s()
				d := tb.NewDict()
				d.Set("clean", clean)
				must(t, tb.Save(in, d))
			})
		})
		m.Close()
		got := testkit.RunPython(t, `
import sys, torch
g = torch.jit.load(sys.argv[1])
clean = torch.load(sys.argv[2])["clean"]
y0 = g(clean, torch.zeros(2), 0.0)
torch.manual_seed(5); a = g(clean, torch.full((2,), 30.0))
torch.manual_seed(5); b = g(clean, torch.full((2,), 30.0))
c = g(clean, torch.full((2,), 30.0), 1.0)
print(bool(torch.equal(a, b)), bool(not torch.equal(a, c)), tuple(y0.shape) == tuple(clean.shape))
print(" ".join(repr(v) for v in y0.flatten().tolist()))
`, path, in)
		lines := strings.Split(got, "\n")
		if lines[0] != "True True True" {
			t.Fatalf("levels %d: seeded repeat / fresh noise / shape checks: %s", levels, lines[0])
		}
		fs := strings.Fields(lines[1])
		if len(fs) != len(ours) {
			t.Fatalf("levels %d: python gave %d values, go %d", levels, len(fs), len(ours))
		}
		for i, f := range fs {
			v, _ := strconv.ParseFloat(f, 64)
			if d := v - ours[i]; d > 1e-6 || d < -1e-6 {
				t.Fatalf("levels %d, element %d: TorchScript %v, Go %v", levels, i, v, ours[i])
			}
		}
	}
}

// TestTorchScriptColourMap: with a colour map the exported generator's
// output is the plain generator's times Scale plus Shift per channel (σ = 0
// and temperature 0 make both deterministic), in Python's torch.
func TestTorchScriptColourMap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain, mapped, in := filepath.Join(dir, "plain.pt"), filepath.Join(dir, "mapped.pt"), filepath.Join(dir, "in.pth")
	m, err := New(Config{Channels: 3, Filters: 8, Levels: 2}, tb.Options{}, 4)
	must(t, err)
	defer m.Close()
	cm := &ColourMap{Scale: [3]float64{0.8, 1.1, 0.95}, Shift: [3]float64{0.02, -0.03, 0.01}}
	must(t, m.ExportTorchScript(plain, nil))
	must(t, m.ExportTorchScript(mapped, cm))
	tb.WithScope(func(*tb.Scope) {
		g := tb.NewGenerator(3, tb.CPU)
		defer g.Close()
		d := tb.NewDict()
		d.Set("clean", tb.Rand([]int64{2, 3, 9, 11}, tb.Options{}, g))
		must(t, tb.Save(in, d))
	})
	got := testkit.RunPython(t, `
import sys, torch
plain, mapped = torch.jit.load(sys.argv[1]), torch.jit.load(sys.argv[2])
clean = torch.load(sys.argv[3])["clean"]
a, b = plain(clean, torch.zeros(2), 0.0), mapped(clean, torch.zeros(2), 0.0)
scale = torch.tensor([float(v) for v in sys.argv[4].split(",")]).reshape(1, 3, 1, 1)
shift = torch.tensor([float(v) for v in sys.argv[5].split(",")]).reshape(1, 3, 1, 1)
print(float((b - (a * scale + shift)).abs().max()), float((b - a).abs().max()))
`, plain, mapped, in, "0.8,1.1,0.95", "0.02,-0.03,0.01")
	fs := strings.Fields(got)
	if len(fs) != 2 {
		t.Fatalf("python printed %q", got)
	}
	diff, _ := strconv.ParseFloat(fs[0], 64)
	moved, _ := strconv.ParseFloat(fs[1], 64)
	if diff > 1e-6 { // float32 arithmetic on values of order 1
		t.Errorf("mapped output differs from plain·scale+shift by %g", diff)
	}
	if moved < 1e-3 {
		t.Errorf("the map changed nothing (max change %g)", moved)
	}
	if err := (&LUDVAE{Config: Config{Channels: 1}}).ExportTorchScript(filepath.Join(dir, "x.pt"), cm); err == nil || !strings.Contains(err.Error(), "3 channels") {
		t.Errorf("a colour map on a 1-channel model: got %v", err)
	}
}
