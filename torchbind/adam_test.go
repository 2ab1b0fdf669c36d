package torchbind

import (
	"path/filepath"
	"testing"
)

// TestAdamMatchesTorch runs three Adam steps with fixed gradients in Go and
// in Python's torch.optim.Adam (float64, weight decay on; the second
// parameter has no gradient in the second step, so the two step counts
// part), then checks the parameters and the optimizer state dict agree to
// the last bit, and that torch's state dict loads back into our optimizer.
func TestAdamMatchesTorch(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pth"), filepath.Join(dir, "out.pth")
	cfg := AdamConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
	var params, grads []*Tensor
	mustTry(t, func() {
		g := NewGenerator(3, CPU)
		defer g.Close()
		for _, s := range [][]int64{{4, 3}, {5}} {
			params = append(params, Randn(s, Options{DType: Float64}, g).Persist())
			grads = append(grads, Randn(s, Options{DType: Float64}, g).Persist())
		}
		d := NewDict()
		d.Set("p0", params[0])
		d.Set("p1", params[1])
		d.Set("g0", grads[0])
		d.Set("g1", grads[1])
		if err := Save(in, d); err != nil {
			t.Fatal(err)
		}
	})
	runPython(t, `
import sys, torch
d = torch.load(sys.argv[1])
ps = [d["p0"].clone().requires_grad_(), d["p1"].clone().requires_grad_()]
opt = torch.optim.Adam(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
for step in range(3):
    for p, g in zip(ps, [d["g0"], d["g1"]]):
        p.grad = g.clone()
    if step == 1:
        ps[1].grad = None
    opt.step()
torch.save({"p0": ps[0].detach(), "p1": ps[1].detach(), "opt": opt.state_dict()}, sys.argv[2])
`, in, out)

	opt := NewAdam(params, cfg)
	defer opt.Close()
	mustTry(t, func() {
		for step := 0; step < 3; step++ {
			for i, p := range params {
				p.SetGrad(grads[i].Clone())
			}
			if step == 1 {
				params[1].ZeroGrad()
			}
			opt.Step()
		}
	})
	ref, err := LoadDict(out)
	if err != nil {
		t.Fatal(err)
	}
	mustTry(t, func() {
		for i, key := range []string{"p0", "p1"} {
			v, _ := ref.Get(key)
			if d := maxAbsDiff(params[i].Float64s(), v.(*Tensor).Float64s()); d != 0 {
				t.Errorf("%s after 3 steps differs from torch by %g", key, d)
			}
		}
		ov, _ := ref.Get("opt")
		theirs := ov.(*Dict)
		// Our state dict has torch's layout: compare entry by entry.
		ours := opt.StateDict()
		for _, sd := range []*Dict{ours, theirs} {
			sv, _ := sd.Get("state")
			for i, want := range []float64{3, 2} {
				st, _ := sv.(*Dict).Get(int64(i))
				step, _ := st.(*Dict).Get("step")
				if toFloat(step) != want {
					t.Fatalf("state %d: step %v, want %v", i, step, want)
				}
			}
		}
		// torch's state loads into a fresh optimizer and continues identically.
		fresh := NewAdam(params, AdamConfig{})
		defer fresh.Close()
		if err := fresh.LoadStateDict(theirs); err != nil {
			t.Fatal(err)
		}
		if fresh.Config != cfg {
			t.Fatalf("config from torch state %+v, want %+v", fresh.Config, cfg)
		}
		for i := range params {
			if maxAbsDiff(fresh.State[i].ExpAvgSq.Float64s(), opt.State[i].ExpAvgSq.Float64s()) != 0 {
				t.Fatalf("exp_avg_sq %d differs from torch's", i)
			}
		}
	})
}

func TestAdamStateDictRoundTripsThroughTorch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opt.pth")
	mustTry(t, func() {
		p := Ones([]int64{3}, Options{}).Persist().SetRequiresGrad(true)
		opt := NewAdam([]*Tensor{p}, DefaultAdam)
		defer opt.Close()
		p.Sum().Backward()
		opt.Step()
		if err := Save(path, opt.StateDict()); err != nil {
			t.Fatal(err)
		}
	})
	// torch's Adam accepts our state dict as its own.
	got := runPython(t, `
import sys, torch
p = torch.nn.Parameter(torch.ones(3))
opt = torch.optim.Adam([p], lr=1e-4)
opt.load_state_dict(torch.load(sys.argv[1]))
s = opt.state[p]
print(float(s["step"]), float(s["exp_avg"][0]), opt.param_groups[0]["lr"])
`, path)
	if got != "1.0 0.10000000149011612 0.0001" {
		t.Fatalf("torch read our Adam state as %q", got)
	}
}
