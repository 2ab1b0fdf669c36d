package model

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestSubsetEqualsMaskedComputation checks that running the degradation
// branch on the degraded samples only gives what the authors' masked
// computation over the whole batch gives (the Python reference): output,
// losses and every gradient, for mixed, all-clean and all-degraded batches.
func TestSubsetEqualsMaskedComputation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := Config{Channels: 3, Filters: 5, Levels: 3}
	masks := [][]bool{{true, false, false, true}, {false, false, false, false}, {true, true, true, true}}
	m, err := New(cfg, tb.Options{DType: tb.Float64}, 11)
	must(t, err)
	defer m.Close()
	sdPath, inPath := filepath.Join(dir, "sd.pth"), filepath.Join(dir, "in.pth")
	must(t, m.SaveStateDict(sdPath))
	type result struct {
		values map[string][]float64
	}
	var ours []result
	tb.WithScope(func(*tb.Scope) {
		mustTry(t, func() {
			g := tb.NewGenerator(12, tb.CPU)
			defer g.Close()
			o := tb.Options{DType: tb.Float64}
			x := tb.Rand([]int64{4, 3, 6, 7}, o, g)
			h := x.Add(tb.Randn(x.Shape(), o, g).MulScalar(0.1))
			noise := Noise{Eps: map[Site]*tb.Tensor{}}
			in := tb.NewDict()
			in.Set("x", x)
			in.Set("h", h)
			for l := 1; l <= 3; l++ {
				e := tb.Randn([]int64{4, 5, 6, 7}, o, g)
				noise.Eps[PostSite(l)] = e
				in.Set(PostSite(l).String(), e)
			}
			must(t, tb.Save(inPath, in))
			for _, mask := range masks {
				for _, p := range m.Params() {
					p.Tensor.ZeroGrad()
				}
				l, err := m.Loss(x, h, mask, noise)
				must(t, err)
				l.Total(0.5).Backward()
				must(t, m.FillMissingGrads())
				r := result{map[string][]float64{"out": l.Output.Float64s(), "rec": l.Rec.Float64s(), "kl": l.KL.Float64s()}}
				for _, p := range m.Params() {
					r.values["grad."+p.Name] = p.Tensor.Grad().Float64s()
				}
				ours = append(ours, r)
			}
		})
	})
	var maskArgs []string
	for _, mask := range masks {
		s := ""
		for _, b := range mask {
			s += map[bool]string{true: "1", false: "0"}[b]
		}
		maskArgs = append(maskArgs, s)
	}
	out := testkit.RunPython(t, `
import sys, torch
from ludvae_ref import LUDVAE
m = LUDVAE(3, 5, 3).double()
m.load_state_dict(torch.load(sys.argv[1]), strict=True)
d = torch.load(sys.argv[2])
eps = {k: d[k] for k in d if k.startswith("post_")}
for s in sys.argv[3:]:
    mask = torch.tensor([float(c) for c in s], dtype=torch.float64)
    m.zero_grad()
    loss, rec, kl, y = m.loss(d["x"], d["h"], mask, 0.5, eps)
    loss.backward()
    vals = {"out": y, "rec": rec, "kl": kl}
    vals.update({"grad." + n: p.grad for n, p in m.named_parameters()})
    print("|".join("%s=%s" % (k, ",".join(repr(v) for v in t.detach().flatten().tolist())) for k, t in vals.items()))
`, append([]string{sdPath, inPath}, maskArgs...)...)
	lines := strings.Split(out, "\n")
	if len(lines) != len(masks) {
		t.Fatalf("python printed %d lines for %d masks", len(lines), len(masks))
	}
	for i, line := range lines {
		t.Run(fmt.Sprintf("mask=%s", maskArgs[i]), func(t *testing.T) {
			for _, field := range strings.Split(line, "|") {
				name, list, _ := strings.Cut(field, "=")
				var want []float64
				for _, s := range strings.Split(list, ",") {
					v, _ := strconv.ParseFloat(s, 64)
					want = append(want, v)
				}
				got := ours[i].values[name]
				if len(got) != len(want) {
					t.Fatalf("%s: %d values, python %d", name, len(got), len(want))
				}
				for j := range got {
					// float64 with a different summation order: 1e-12.
					if d := got[j] - want[j]; d > 1e-12 || d < -1e-12 {
						t.Fatalf("%s[%d]: go %v, masked python %v", name, j, got[j], want[j])
					}
				}
			}
		})
	}
}
