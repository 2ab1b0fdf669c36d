package torchbind

// #include "ludvae.h"
import "C"

import (
	"fmt"
	"runtime"
)

// AdamConfig holds Adam's hyper-parameters, with torch.optim.Adam's names.
type AdamConfig struct {
	LR          float64
	Beta1       float64
	Beta2       float64
	Eps         float64
	WeightDecay float64
}

// DefaultAdam is torch.optim.Adam's default configuration with lr 1e-4.
var DefaultAdam = AdamConfig{LR: 1e-4, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}

// AdamState is the per-parameter state, as in torch's optimizer state dict.
type AdamState struct {
	Step     float64
	ExpAvg   *Tensor
	ExpAvgSq *Tensor
}

// Adam is torch.optim.Adam (no amsgrad) over an ordered list of parameters.
// Its update (Step) is PyTorch's multi-tensor implementation (the one it
// uses on CUDA), which on the CPU performs the single-tensor
// implementation's operations in the same order (bit-identical to
// torch.optim.Adam on Debian's libtorch 1.13, tested; see shim/adam.cpp for
// 2.x). On the CPU the shim runs those operations in one pass over the
// tensors where libtorch's kernels are AVX2 or AVX-512, with the same
// rounding, so the same bits. FusedStep is the same update as one kernel
// for CUDA graphs. Its state is readable and writable in the layout of
// torch's optimizer state_dict.
type Adam struct {
	Config AdamConfig
	Params []*Tensor
	State  []AdamState // State[i] belongs to Params[i]; ExpAvg nil before the first step
}

// NewAdam returns an optimizer over params.
func NewAdam(params []*Tensor, cfg AdamConfig) *Adam {
	return &Adam{Config: cfg, Params: params, State: make([]AdamState, len(params))}
}

// Step applies one update to every parameter that has a gradient: one
// multi-tensor update per distinct step count (normally one for the model).
// A parameter's step count advances only with its update.
func (a *Adam) Step() {
	c := a.Config
	type group struct {
		p, g, m, v []*Tensor
		state      []*AdamState
	}
	groups := map[float64]*group{}
	var steps []float64
	for i, p := range a.Params {
		g := p.Grad()
		if g == nil {
			continue
		}
		s := &a.State[i]
		if s.ExpAvg == nil {
			NoGrad(func() {
				s.ExpAvg = ZerosLike(p).Persist()
				s.ExpAvgSq = ZerosLike(p).Persist()
			})
		}
		gr := groups[s.Step+1]
		if gr == nil {
			gr = &group{}
			groups[s.Step+1] = gr
			steps = append(steps, s.Step+1)
		}
		gr.p, gr.g = append(gr.p, p), append(gr.g, g)
		gr.m, gr.v = append(gr.m, s.ExpAvg), append(gr.v, s.ExpAvgSq)
		gr.state = append(gr.state, s)
	}
	for _, step := range steps {
		gr := groups[step]
		hp, hg, hm, hv := handles(gr.p), handles(gr.g), handles(gr.m), handles(gr.v)
		err := C.lv_adam_step(&hp[0], &hg[0], &hm[0], &hv[0], C.int(len(hp)),
			C.double(step), C.double(c.LR), C.double(c.Beta1), C.double(c.Beta2), C.double(c.Eps), C.double(c.WeightDecay))
		runtime.KeepAlive(gr)
		for _, g := range gr.g {
			g.Close()
		}
		check("adam", err)
		for _, s := range gr.state {
			s.Step = step
		}
	}
}

// PrepareFused readies the parameters for FusedStep: each gets a zero
// gradient and zero moments (in its own layout) where it has none, and a
// gradient that exists is replaced by zeros. It returns the step count the
// parameters share, and an error if they do not share one.
func (a *Adam) PrepareFused() (step float64, err error) {
	for i, s := range a.State {
		if s.Step != a.State[0].Step {
			return 0, fmt.Errorf("adam: parameter %d has taken %g steps, parameter 0 %g: the fused update takes one step count", i, s.Step, a.State[0].Step)
		}
	}
	err = Try(func() {
		WithScope(func(*Scope) {
			a.prepareFused()
		})
	})
	return a.State[0].Step, err
}

func (a *Adam) prepareFused() {
	NoGrad(func() {
		for i, p := range a.Params {
			s := &a.State[i]
			if s.ExpAvg == nil {
				s.ExpAvg = ZerosLike(p).Persist()
				s.ExpAvgSq = ZerosLike(p).Persist()
			}
			p.SetGrad(ZerosLike(p)) // the scope closes the handle, the gradient stays
		}
	})
}

// FusedStep is one update of every parameter by a single fused operation
// (a kernel per 32 tensors on CUDA) that reads the learning rate and the
// step number from scalars, {lr, step} as two float64 on the parameters'
// device, step already incremented. A CUDA graph that records it therefore
// replays the right update once scalars is written; Config.LR is not used.
// Nothing changes when loss (one float32 there, or nil) is not finite. The
// gradients are zeroed afterwards either way, ready for the next backward
// to accumulate into; the parameters need gradients and state
// (PrepareFused). The step counts in State are left alone: call SetSteps
// once the update is known to have happened. The float operations are
// those of Step under torch 2 (first moment by lerp), in the same order.
func (a *Adam) FusedStep(scalars, loss *Tensor) {
	c := a.Config
	n := len(a.Params)
	hp, hg, hm, hv := make([]C.lv_tensor, n), make([]C.lv_tensor, n), make([]C.lv_tensor, n), make([]C.lv_tensor, n)
	grads := make([]*Tensor, n)
	for i, p := range a.Params {
		grads[i] = p.Grad()
		if grads[i] == nil || a.State[i].ExpAvg == nil {
			fail("adam", "parameter %d has no gradient or state: call PrepareFused first", i)
		}
		hp[i], hg[i], hm[i], hv[i] = p.ptr(), grads[i].ptr(), a.State[i].ExpAvg.ptr(), a.State[i].ExpAvgSq.ptr()
	}
	err := C.lv_adam_fused(&hp[0], &hg[0], &hm[0], &hv[0], C.int(n), scalars.ptr(), loss.ptr(),
		C.double(c.Beta1), C.double(c.Beta2), C.double(c.Eps), C.double(c.WeightDecay))
	runtime.KeepAlive(a)
	runtime.KeepAlive(scalars)
	runtime.KeepAlive(loss)
	for _, g := range grads {
		g.Close()
	}
	check("adam", err)
}

// SetSteps sets every parameter's step count.
func (a *Adam) SetSteps(step float64) {
	for i := range a.State {
		a.State[i].Step = step
	}
}

// ZeroGrad drops every parameter's gradient.
func (a *Adam) ZeroGrad() {
	for _, p := range a.Params {
		p.ZeroGrad()
	}
}

// Close frees the optimizer state.
func (a *Adam) Close() {
	for i := range a.State {
		a.State[i].ExpAvg.Close()
		a.State[i].ExpAvgSq.Close()
		a.State[i] = AdamState{}
	}
}

// StateDict returns the optimizer's state in the layout of torch's
// Optimizer.state_dict(): {"state": {i: {"step", "exp_avg", "exp_avg_sq"}},
// "param_groups": [{"lr", "betas", "eps", "weight_decay", "amsgrad", ...,
// "params": [0..n-1]}]}, ready for Save.
func (a *Adam) StateDict() *Dict {
	state := NewDict()
	for i, s := range a.State {
		if s.ExpAvg == nil {
			continue
		}
		st := NewDict()
		st.Set("step", Scalar(float32(s.Step)))
		st.Set("exp_avg", s.ExpAvg)
		st.Set("exp_avg_sq", s.ExpAvgSq)
		state.Set(int64(i), st)
	}
	ids := make([]any, len(a.Params))
	for i := range ids {
		ids[i] = int64(i)
	}
	c := a.Config
	group := NewDict()
	group.Set("lr", c.LR)
	group.Set("betas", Tuple{c.Beta1, c.Beta2})
	group.Set("eps", c.Eps)
	group.Set("weight_decay", c.WeightDecay)
	group.Set("amsgrad", false)
	group.Set("maximize", false)
	group.Set("foreach", nil)
	group.Set("capturable", false)
	group.Set("params", ids)
	sd := NewDict()
	sd.Set("state", state)
	sd.Set("param_groups", []any{group})
	return sd
}

// LoadStateDict restores state written by StateDict or by torch's
// Adam.state_dict() for the same parameter list. Tensors are copied onto the
// parameters' devices and dtypes.
func (a *Adam) LoadStateDict(sd *Dict) error {
	return Try(func() { a.loadStateDict(sd) })
}

func (a *Adam) loadStateDict(sd *Dict) {
	gv, _ := sd.Get("param_groups")
	groups := AsList(gv)
	if len(groups) != 1 {
		fail("adam state", "expected one param group, found %d", len(groups))
	}
	g, ok := groups[0].(*Dict)
	if !ok {
		fail("adam state", "param group is %T, expected a dict", groups[0])
	}
	if ids, _ := g.Get("params"); len(AsList(ids)) != len(a.Params) {
		fail("adam state", "state has %d parameters, the model %d", len(AsList(ids)), len(a.Params))
	}
	if lr, ok := g.Get("lr"); ok {
		a.Config.LR = toFloat(lr)
	}
	if b, ok := g.Get("betas"); ok {
		bs := AsList(b)
		if len(bs) == 2 {
			a.Config.Beta1, a.Config.Beta2 = toFloat(bs[0]), toFloat(bs[1])
		}
	}
	if e, ok := g.Get("eps"); ok {
		a.Config.Eps = toFloat(e)
	}
	if w, ok := g.Get("weight_decay"); ok {
		a.Config.WeightDecay = toFloat(w)
	}
	sv, _ := sd.Get("state")
	state, _ := sv.(*Dict)
	if state == nil {
		fail("adam state", "missing \"state\" dict")
	}
	a.Close()
	for i, k := range state.Keys {
		idx, ok := k.(int64)
		if !ok || idx < 0 || int(idx) >= len(a.Params) {
			fail("adam state", "state key %v is not a parameter index below %d", k, len(a.Params))
		}
		st, ok := state.Values[i].(*Dict)
		if !ok {
			fail("adam state", "state %d is %T, expected a dict", idx, state.Values[i])
		}
		p := a.Params[idx]
		get := func(name string) *Tensor {
			v, _ := st.Get(name)
			t, ok := v.(*Tensor)
			if !ok {
				fail("adam state", "state %d: %q is %T, expected a tensor", idx, name, v)
			}
			if fmt.Sprint(t.Shape()) != fmt.Sprint(p.Shape()) {
				fail("adam state", "state %d: %q has shape %v, parameter %v", idx, name, t.Shape(), p.Shape())
			}
			var c *Tensor
			// in the parameter's layout too (channels-last on CUDA), which
			// the multi-tensor kernels need to take their fast path
			NoGrad(func() { c = ZerosLike(p).CopyFrom(t).Persist() })
			return c
		}
		stepV, _ := st.Get("step")
		a.State[idx] = AdamState{Step: toFloat(stepV), ExpAvg: get("exp_avg"), ExpAvgSq: get("exp_avg_sq")}
	}
}

// AsList returns the elements of a list or tuple read by Load, or nil.
func AsList(v any) []any {
	switch l := v.(type) {
	case []any:
		return l
	case Tuple:
		return l
	}
	return nil
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case *Tensor:
		return x.Item()
	}
	fail("value", "expected a number, found %T", v)
	return 0
}
