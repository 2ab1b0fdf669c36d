package torchbind

// #include "ludvae.h"
import "C"

import (
	"math"
	"runtime"
)

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

// Neg returns −t.
func (t *Tensor) Neg() *Tensor { return unary("neg", C.LV_OP_NEG, t) }

// Exp returns eᵗ.
func (t *Tensor) Exp() *Tensor { return unary("exp", C.LV_OP_EXP, t) }

// Log returns the natural logarithm.
func (t *Tensor) Log() *Tensor { return unary("log", C.LV_OP_LOG, t) }

// Sqrt returns the square root.
func (t *Tensor) Sqrt() *Tensor { return unary("sqrt", C.LV_OP_SQRT, t) }

// Abs returns |t|.
func (t *Tensor) Abs() *Tensor { return unary("abs", C.LV_OP_ABS, t) }

// Relu returns max(t, 0).
func (t *Tensor) Relu() *Tensor { return unary("relu", C.LV_OP_RELU, t) }

// ReluInPlace clamps t at zero in place and returns t. Autograd allows it
// after a convolution, whose backward does not need its output.
func (t *Tensor) ReluInPlace() *Tensor {
	check("relu_", C.lv_unary_(C.LV_OP_RELU, t.ptr()))
	runtime.KeepAlive(t)
	return t
}

// Sigmoid returns 1/(1+e⁻ᵗ).
func (t *Tensor) Sigmoid() *Tensor { return unary("sigmoid", C.LV_OP_SIGMOID, t) }

// Tanh returns the hyperbolic tangent.
func (t *Tensor) Tanh() *Tensor { return unary("tanh", C.LV_OP_TANH, t) }

// Square returns t².
func (t *Tensor) Square() *Tensor { return unary("square", C.LV_OP_SQUARE, t) }

// Floor rounds down.
func (t *Tensor) Floor() *Tensor { return unary("floor", C.LV_OP_FLOOR, t) }

// Round rounds half to even, as torch.round.
func (t *Tensor) Round() *Tensor { return unary("round", C.LV_OP_ROUND, t) }

// Sign returns −1, 0 or 1.
func (t *Tensor) Sign() *Tensor { return unary("sign", C.LV_OP_SIGN, t) }

// LogicalNot returns the boolean negation.
func (t *Tensor) LogicalNot() *Tensor { return unary("logical_not", C.LV_OP_LOGICAL_NOT, t) }

// IsFinite returns a bool tensor, true where t is neither infinite nor NaN.
func (t *Tensor) IsFinite() *Tensor { return unary("isfinite", C.LV_OP_ISFINITE, t) }

// Reciprocal returns 1/t.
func (t *Tensor) Reciprocal() *Tensor { return unary("reciprocal", C.LV_OP_RECIPROCAL, t) }

// Add returns t + o (broadcasting).
func (t *Tensor) Add(o *Tensor) *Tensor { return binary("add", C.LV_OP_ADD, t, o) }

// Sub returns t − o.
func (t *Tensor) Sub(o *Tensor) *Tensor { return binary("sub", C.LV_OP_SUB, t, o) }

// Mul returns t · o.
func (t *Tensor) Mul(o *Tensor) *Tensor { return binary("mul", C.LV_OP_MUL, t, o) }

// Div returns t / o.
func (t *Tensor) Div(o *Tensor) *Tensor { return binary("div", C.LV_OP_DIV, t, o) }

// Pow returns tᵒ.
func (t *Tensor) Pow(o *Tensor) *Tensor { return binary("pow", C.LV_OP_POW, t, o) }

// Maximum returns the elementwise maximum.
func (t *Tensor) Maximum(o *Tensor) *Tensor { return binary("maximum", C.LV_OP_MAXIMUM, t, o) }

// Minimum returns the elementwise minimum.
func (t *Tensor) Minimum(o *Tensor) *Tensor { return binary("minimum", C.LV_OP_MINIMUM, t, o) }

// Eq returns t == o.
func (t *Tensor) Eq(o *Tensor) *Tensor { return binary("eq", C.LV_OP_EQ, t, o) }

// Lt returns t < o.
func (t *Tensor) Lt(o *Tensor) *Tensor { return binary("lt", C.LV_OP_LT, t, o) }

// Gt returns t > o.
func (t *Tensor) Gt(o *Tensor) *Tensor { return binary("gt", C.LV_OP_GT, t, o) }

// LogicalAnd returns t ∧ o.
func (t *Tensor) LogicalAnd(o *Tensor) *Tensor {
	return binary("logical_and", C.LV_OP_LOGICAL_AND, t, o)
}

// AddScalar returns t + s.
func (t *Tensor) AddScalar(s float64) *Tensor { return binaryScalar("add", C.LV_OP_ADD, t, s) }

// SubScalar returns t − s.
func (t *Tensor) SubScalar(s float64) *Tensor { return binaryScalar("sub", C.LV_OP_SUB, t, s) }

// MulScalar returns t · s.
func (t *Tensor) MulScalar(s float64) *Tensor { return binaryScalar("mul", C.LV_OP_MUL, t, s) }

// DivScalar returns t / s.
func (t *Tensor) DivScalar(s float64) *Tensor { return binaryScalar("div", C.LV_OP_DIV, t, s) }

// PowScalar returns tˢ.
func (t *Tensor) PowScalar(s float64) *Tensor { return binaryScalar("pow", C.LV_OP_POW, t, s) }

// EqScalar returns t == s.
func (t *Tensor) EqScalar(s float64) *Tensor { return binaryScalar("eq", C.LV_OP_EQ, t, s) }

// GtScalar returns t > s.
func (t *Tensor) GtScalar(s float64) *Tensor { return binaryScalar("gt", C.LV_OP_GT, t, s) }

// LtScalar returns t < s.
func (t *Tensor) LtScalar(s float64) *Tensor { return binaryScalar("lt", C.LV_OP_LT, t, s) }

// AddInPlace adds o to t in place and returns t.
func (t *Tensor) AddInPlace(o *Tensor) *Tensor { return inPlace("add_", C.LV_OP_ADD, t, o, 0) }

// SubInPlace subtracts o from t in place and returns t.
func (t *Tensor) SubInPlace(o *Tensor) *Tensor { return inPlace("sub_", C.LV_OP_SUB, t, o, 0) }

// MulInPlace multiplies t by o in place and returns t.
func (t *Tensor) MulInPlace(o *Tensor) *Tensor { return inPlace("mul_", C.LV_OP_MUL, t, o, 0) }

// AddScalarInPlace adds s to t in place and returns t.
func (t *Tensor) AddScalarInPlace(s float64) *Tensor {
	return inPlace("add_", C.LV_OP_ADD, t, nil, s)
}

// MulScalarInPlace multiplies t by s in place and returns t.
func (t *Tensor) MulScalarInPlace(s float64) *Tensor {
	return inPlace("mul_", C.LV_OP_MUL, t, nil, s)
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

// ClampMin limits t from below.
func (t *Tensor) ClampMin(lo float64) *Tensor { return t.Clamp(lo, math.NaN()) }

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
