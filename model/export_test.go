package model

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/torchbind/pyref"
)

// TestTorchScriptGenerator exports the C2N generator and runs it in Python:
// with σ = 0 and temperature 0 it must equal the Go model within 1e-6; with
// noise on, it draws from torch's RNG (seeded runs repeat, others differ).
func TestTorchScriptGenerator(t *testing.T) {
	dir := t.TempDir()
	path, in := filepath.Join(dir, "gen.pt"), filepath.Join(dir, "in.pth")
	for _, levels := range []int{1, 3} {
		m, err := New(Config{Channels: 3, Filters: 8, Levels: levels}, tb.Options{}, 21)
		must(t, err)
		must(t, m.ExportTorchScript(path))
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
		got := pyref.Run(t, `
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
