package model

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestInitIsTorchs: New(seed) draws bit for bit the parameters that
// torch.manual_seed(seed) and the reference network's nn.Conv2d defaults
// draw, for several sizes and seeds, so a ludvae run and an eager PyTorch
// run with one seed start from one point (the many-step comparison of
// dynamics.sh is paired by it). A float64 network holds the same values,
// converted. Python's torch builds the reference and compares.
func TestInitIsTorchs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg  Config
		seed uint64
	}{
		{Config{Channels: 3, Filters: 16, Levels: 3}, 11},
		{Config{Channels: 3, Filters: 8, Levels: 1}, 0},
		{Config{Channels: 3, Filters: 4, Levels: 5}, 1 << 40},
	} {
		dir := t.TempDir()
		paths := map[tb.DType]string{tb.Float32: filepath.Join(dir, "f32.pth"), tb.Float64: filepath.Join(dir, "f64.pth")}
		for dt, path := range paths {
			m, err := New(c.cfg, tb.Options{DType: dt}, c.seed)
			must(t, err)
			must(t, m.SaveStateDict(path))
			m.Close()
		}
		out := testkit.RunPython(t, `
import sys, torch
from ludvae_ref import LUDVAE
f, L, seed, d32, d64 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
torch.manual_seed(seed)
want = LUDVAE(3, f, L).state_dict()
g32, g64 = torch.load(d32), torch.load(d64)
for k, v in want.items():
    if not torch.equal(g32[k], v):
        print("%s: float32 differs by up to %g" % (k, (g32[k] - v).abs().max()))
    if not torch.equal(g64[k], v.double()):
        print("%s: float64 differs from float32's values by up to %g" % (k, (g64[k] - v.double()).abs().max()))
print("checked", len(want))
`, fmt.Sprint(c.cfg.Filters), fmt.Sprint(c.cfg.Levels), fmt.Sprint(c.seed), paths[tb.Float32], paths[tb.Float64])
		if !strings.HasPrefix(out, "checked ") {
			t.Errorf("filters %d, levels %d, seed %d: not torch's initialization:\n%s", c.cfg.Filters, c.cfg.Levels, c.seed, out)
		}
	}
}
