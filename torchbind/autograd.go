package torchbind

// #include "ludvae.h"
import "C"

import "runtime"

// SetRequiresGrad makes t a leaf that autograd records (or stops recording)
// and returns t.
func (t *Tensor) SetRequiresGrad(on bool) *Tensor {
	check("requires_grad_", C.lv_set_requires_grad(t.ptr(), cbool(on)))
	runtime.KeepAlive(t)
	return t
}

// Backward computes the gradients of the scalar t with respect to every leaf
// that requires them, accumulating into their Grad.
func (t *Tensor) Backward() { t.BackwardWith(nil, false) }

// BackwardWith back-propagates grad (nil: ones, for a scalar t); retain keeps
// the graph for a second backward.
func (t *Tensor) BackwardWith(grad *Tensor, retain bool) {
	check("backward", C.lv_backward(t.ptr(), grad.ptr(), cbool(retain)))
	runtime.KeepAlive(t)
	runtime.KeepAlive(grad)
}

// Grad returns a handle to t's accumulated gradient, or nil when there is none.
func (t *Tensor) Grad() *Tensor {
	var out C.lv_tensor
	check("grad", C.lv_grad(t.ptr(), &out))
	runtime.KeepAlive(t)
	return wrap(out)
}

// SetGrad replaces t's gradient; nil drops it (as zero_grad(set_to_none=True)).
func (t *Tensor) SetGrad(g *Tensor) {
	check("set grad", C.lv_set_grad(t.ptr(), g.ptr()))
	runtime.KeepAlive(t)
	runtime.KeepAlive(g)
}

// ZeroGrad drops t's gradient.
func (t *Tensor) ZeroGrad() { t.SetGrad(nil) }

// Detach returns a tensor sharing t's data that autograd does not track.
func (t *Tensor) Detach() *Tensor {
	var out C.lv_tensor
	check("detach", C.lv_detach(t.ptr(), &out))
	runtime.KeepAlive(t)
	return wrap(out)
}

// NoGrad runs f with gradient recording off. libtorch's grad mode belongs to
// the OS thread, so f runs with its goroutine locked to the thread.
func NoGrad(f func()) { withGradMode(false, f) }

func withGradMode(on bool, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var prev C.int
	C.lv_set_grad_enabled(cbool(on), &prev)
	defer C.lv_set_grad_enabled(prev, nil)
	f()
}
