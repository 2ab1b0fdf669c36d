package torchbind

// #include "ludvae.h"
import "C"

import "runtime"

func unary(name string, op C.int, a *Tensor) *Tensor {
	var out C.lv_tensor
	check(name, C.lv_unary(op, a.ptr(), &out))
	runtime.KeepAlive(a)
	return wrap(out)
}

func binary(name string, op C.int, a, b *Tensor) *Tensor {
	var out C.lv_tensor
	check(name, C.lv_binary(op, a.ptr(), b.ptr(), &out))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	return wrap(out)
}

func binaryScalar(name string, op C.int, a *Tensor, s float64) *Tensor {
	var out C.lv_tensor
	check(name, C.lv_binary_scalar(op, a.ptr(), C.double(s), &out))
	runtime.KeepAlive(a)
	return wrap(out)
}

func inPlace(name string, op C.int, a, b *Tensor, s float64) *Tensor {
	check(name, C.lv_binary_(op, a.ptr(), b.ptr(), C.double(s)))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	return a
}

// Exp returns eᵗ.
func (t *Tensor) Exp() *Tensor { return unary("exp", C.LV_OP_EXP, t) }

// Log returns the natural logarithm.
func (t *Tensor) Log() *Tensor { return unary("log", C.LV_OP_LOG, t) }

// Sqrt returns the square root.
func (t *Tensor) Sqrt() *Tensor { return unary("sqrt", C.LV_OP_SQRT, t) }

// Abs returns |t|.
func (t *Tensor) Abs() *Tensor { return unary("abs", C.LV_OP_ABS, t) }

// ReluInPlace clamps t at zero in place and returns t. Autograd allows it
// after a convolution, whose backward does not need its output.
func (t *Tensor) ReluInPlace() *Tensor {
	check("relu_", C.lv_unary_(C.LV_OP_RELU, t.ptr()))
	runtime.KeepAlive(t)
	return t
}

// Square returns t².
func (t *Tensor) Square() *Tensor { return unary("square", C.LV_OP_SQUARE, t) }

// Floor rounds down.
func (t *Tensor) Floor() *Tensor { return unary("floor", C.LV_OP_FLOOR, t) }

// Round rounds half to even, as torch.round.
func (t *Tensor) Round() *Tensor { return unary("round", C.LV_OP_ROUND, t) }

// Add returns t + o (broadcasting).
func (t *Tensor) Add(o *Tensor) *Tensor { return binary("add", C.LV_OP_ADD, t, o) }

// Sub returns t − o.
func (t *Tensor) Sub(o *Tensor) *Tensor { return binary("sub", C.LV_OP_SUB, t, o) }

// Mul returns t · o.
func (t *Tensor) Mul(o *Tensor) *Tensor { return binary("mul", C.LV_OP_MUL, t, o) }

// Div returns t / o.
func (t *Tensor) Div(o *Tensor) *Tensor { return binary("div", C.LV_OP_DIV, t, o) }

// AddScalar returns t + s.
func (t *Tensor) AddScalar(s float64) *Tensor { return binaryScalar("add", C.LV_OP_ADD, t, s) }

// SubScalar returns t − s.
func (t *Tensor) SubScalar(s float64) *Tensor { return binaryScalar("sub", C.LV_OP_SUB, t, s) }

// MulScalar returns t · s.
func (t *Tensor) MulScalar(s float64) *Tensor { return binaryScalar("mul", C.LV_OP_MUL, t, s) }

// DivScalar returns t / s.
func (t *Tensor) DivScalar(s float64) *Tensor { return binaryScalar("div", C.LV_OP_DIV, t, s) }

// GtScalar returns t > s.
func (t *Tensor) GtScalar(s float64) *Tensor { return binaryScalar("gt", C.LV_OP_GT, t, s) }

// AddInPlace adds o to t in place and returns t.
func (t *Tensor) AddInPlace(o *Tensor) *Tensor { return inPlace("add_", C.LV_OP_ADD, t, o, 0) }

// AddScalarInPlace adds s to t in place and returns t.
func (t *Tensor) AddScalarInPlace(s float64) *Tensor {
	return inPlace("add_", C.LV_OP_ADD, t, nil, s)
}

// Fill sets every element to v and returns t.
func (t *Tensor) Fill(v float64) *Tensor {
	check("fill_", C.lv_fill_(t.ptr(), C.double(v)))
	runtime.KeepAlive(t)
	return t
}

// CopyFrom copies src into t (converting dtype and device) and returns t.
func (t *Tensor) CopyFrom(src *Tensor) *Tensor {
	check("copy_", C.lv_copy_(t.ptr(), src.ptr()))
	runtime.KeepAlive(t)
	runtime.KeepAlive(src)
	return t
}

// Clamp limits t to [lo, hi]; NaN leaves that side open.
func (t *Tensor) Clamp(lo, hi float64) *Tensor {
	var out C.lv_tensor
	check("clamp", C.lv_clamp(t.ptr(), C.double(lo), C.double(hi), &out))
	runtime.KeepAlive(t)
	return wrap(out)
}

// Where picks a where cond is true and b elsewhere.
func Where(cond, a, b *Tensor) *Tensor {
	var out C.lv_tensor
	check("where", C.lv_where(cond.ptr(), a.ptr(), b.ptr(), &out))
	runtime.KeepAlive(cond)
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	return wrap(out)
}

// Matmul returns the matrix product.
func (t *Tensor) Matmul(o *Tensor) *Tensor {
	var out C.lv_tensor
	check("matmul", C.lv_matmul(t.ptr(), o.ptr(), &out))
	runtime.KeepAlive(t)
	runtime.KeepAlive(o)
	return wrap(out)
}
