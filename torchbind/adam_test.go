package torchbind

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdamMatchesTorch runs three Adam steps with fixed gradients in Go and
// in Python's torch.optim.Adam (weight decay on; the second parameter has no
// gradient in the second step, so the step counts part), then checks the
// parameters and the optimizer state dict agree to the last bit, and that
// torch's state dict loads back into our optimizer. In float64 and float32,
// with a third parameter of 70001 elements: on the CPU the update is one
// pass of the shim's own (adam_cpu_pass), which must round as ATen's
// vectorized kernels do, in their vector bodies and in their tails.
func TestAdamMatchesTorch(t *testing.T) {
	t.Parallel()
	for _, dt := range []DType{Float64, Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			t.Parallel()
			testAdamMatchesTorch(t, dt)
		})
	}
}

func testAdamMatchesTorch(t *testing.T, dt DType) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pth"), filepath.Join(dir, "out.pth")
	cfg := AdamConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
	var params, grads []*Tensor
	mustTry(t, func() {
		g := NewGenerator(3, CPU)
		defer g.Close()
		d := NewDict()
		for i, s := range [][]int64{{4, 3}, {5}, {7, 73, 137}} {
			params = append(params, Randn(s, Options{DType: dt}, g).Persist())
			grads = append(grads, Randn(s, Options{DType: dt}, g).Persist())
			d.Set(fmt.Sprint("p", i), params[i])
			d.Set(fmt.Sprint("g", i), grads[i])
		}
		if err := Save(in, d); err != nil {
			t.Fatal(err)
		}
	})
	runPython(t, `
import sys, torch
d = torch.load(sys.argv[1])
ps = [d[f"p{i}"].clone().requires_grad_() for i in range(3)]
opt = torch.optim.Adam(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
for step in range(3):
    for i, p in enumerate(ps):
        p.grad = d[f"g{i}"].clone()
    if step == 1:
        ps[1].grad = None
    opt.step()
torch.save({**{f"p{i}": p.detach() for i, p in enumerate(ps)}, "opt": opt.state_dict()}, sys.argv[2])
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
		for i, key := range []string{"p0", "p1", "p2"} {
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
			for i, want := range []float64{3, 2, 3} {
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
	t.Parallel()
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

// TestAdamFusedMatchesStep takes three steps with weight decay through Step
// and through FusedStep from the same start (float32; channels-last 3×3
// and 1×1 weights and a vector), then a step whose loss is NaN. FusedStep
// reads the step number and learning rate from its tensor. Its float
// operations are torch 2's; Debian's libtorch 1.13 moves the first moment
// by mul and add instead of lerp, an ulp apart, which reaches the
// parameters as at most an ulp or two: 1e-6 relative. After each fused
// step every gradient is zero; the NaN step changes no parameter or moment.
// On a CUDA machine the device's fused step is compared with the CPU's
// (FMAs and the device sqrt: the same tolerance).
func TestAdamFusedMatchesStep(t *testing.T) {
	t.Parallel()
	devices := []Device{CPU}
	if CUDADeviceCount() > 0 {
		devices = append(devices, CUDA(0))
	}
	cfg := AdamConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
	WithScope(func(*Scope) {
		mustTry(t, func() {
			g := NewGenerator(5, CPU)
			defer g.Close()
			f32 := Options{DType: Float32}
			var start []*Tensor
			for _, s := range [][]int64{{4, 3, 3, 3}, {8, 8, 1, 1}, {5}} {
				p := Randn(s, f32, g)
				if len(s) == 4 {
					p = p.ChannelsLast()
				}
				start = append(start, p)
			}
			grads := make([][]*Tensor, 3)
			for k := range grads {
				for _, p := range start {
					grads[k] = append(grads[k], Randn(p.Shape(), f32, g))
				}
			}
			clone := func(dev Device) []*Tensor {
				ps := make([]*Tensor, len(start))
				for i, p := range start {
					ps[i] = p.Detach().ToDevice(dev).ContiguousAs(p).Clone().SetRequiresGrad(true)
				}
				return ps
			}
			ref := NewAdam(clone(CPU), cfg)
			defer ref.Close()
			for k := range grads {
				for i, p := range ref.Params {
					p.SetGrad(grads[k][i].Clone())
				}
				ref.Step()
			}
			var cpu []*Tensor
			for _, dev := range devices {
				fused := NewAdam(clone(dev), cfg)
				defer fused.Close()
				if _, err := fused.PrepareFused(); err != nil {
					t.Fatal(err)
				}
				loss := Zeros(nil, Options{DType: Float32, Device: dev})
				for k := range grads {
					for i, p := range fused.Params {
						p.Grad().CopyFrom(grads[k][i])
					}
					fused.FusedStep(FromSlice([]float64{cfg.LR, float64(k + 1)}).ToDevice(dev), loss)
					fused.SetSteps(float64(k + 1))
				}
				want := ref.Params
				if dev.IsCUDA() {
					want = cpu
				}
				for i, p := range fused.Params {
					if d := maxRelDiff(p.ToDevice(CPU).Float64s(), want[i].Float64s()); d > 1e-6 {
						t.Errorf("%v: parameter %d differs from %s by %.3g relative", dev, i, map[bool]string{false: "Step's", true: "the CPU's fused step"}[dev.IsCUDA()], d)
					}
					if nz := p.Grad().Abs().Max().Item(); nz != 0 {
						t.Errorf("%v: gradient %d is %g after the fused step, want 0", dev, i, nz)
					}
				}
				if !dev.IsCUDA() {
					cpu = fused.Params
				}
				before := make([][]float64, 0)
				for i, p := range fused.Params {
					before = append(before, p.ToDevice(CPU).Float64s(), fused.State[i].ExpAvg.ToDevice(CPU).Float64s())
					p.Grad().CopyFrom(grads[0][i])
				}
				loss.CopyFrom(Scalar(float32(math.NaN())))
				fused.FusedStep(FromSlice([]float64{cfg.LR, 4}).ToDevice(dev), loss)
				for i, p := range fused.Params {
					if !equalF64(p.ToDevice(CPU).Float64s(), before[2*i]) || !equalF64(fused.State[i].ExpAvg.ToDevice(CPU).Float64s(), before[2*i+1]) {
						t.Errorf("%v: a NaN loss changed parameter %d or its moment", dev, i)
					}
					if nz := p.Grad().Abs().Max().Item(); nz != 0 {
						t.Errorf("%v: gradient %d is %g after a skipped step, want 0", dev, i, nz)
					}
				}
			}
		})
	})
}

// maxRelDiff is the largest |a−b| / max(1, |b|).
func maxRelDiff(a, b []float64) float64 {
	worst := 0.0
	for i := range a {
		worst = max(worst, math.Abs(a[i]-b[i])/max(1, math.Abs(b[i])))
	}
	return worst
}

// TestAdamFusedErrors: the fused step refuses parameters without gradient
// or state, scalars that are not {lr, step} in float64, and step counts
// that differ.
func TestAdamFusedErrors(t *testing.T) {
	t.Parallel()
	WithScope(func(*Scope) {
		f32 := Options{DType: Float32}
		p := Zeros([]int64{3}, f32).SetRequiresGrad(true)
		a := NewAdam([]*Tensor{p}, DefaultAdam)
		defer a.Close()
		adam := FromSlice([]float64{1e-3, 1})
		if err := Try(func() { a.FusedStep(adam, nil) }); err == nil || !strings.Contains(err.Error(), "PrepareFused") {
			t.Errorf("before PrepareFused: %v", err)
		}
		if _, err := a.PrepareFused(); err != nil {
			t.Fatal(err)
		}
		if err := Try(func() { a.FusedStep(FromSlice([]float32{1e-3, 1}), nil) }); err == nil || !strings.Contains(err.Error(), "scalars must be {lr, step}") {
			t.Errorf("float32 scalars: %v", err)
		}
		if err := Try(func() { a.FusedStep(adam, Zeros([]int64{2}, f32)) }); err == nil || !strings.Contains(err.Error(), "loss must be one float32") {
			t.Errorf("two-element loss: %v", err)
		}
		q := Zeros([]int64{2}, f32).SetRequiresGrad(true)
		b := NewAdam([]*Tensor{p, q}, DefaultAdam)
		b.State[0].Step = 3
		if _, err := b.PrepareFused(); err == nil || !strings.Contains(err.Error(), "one step count") {
			t.Errorf("different step counts: %v", err)
		}
	})
}
