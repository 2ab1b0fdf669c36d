package torchbind

// #include "ludvae.h"
import "C"

import "runtime"

func reduce(name string, op C.int, t *Tensor, dims []int64, keep bool) *Tensor {
	var out C.lv_tensor
	k := C.int(0)
	if keep {
		k = 1
	}
	check(name, C.lv_reduce(op, t.ptr(), cints(dims), C.int(len(dims)), k, &out))
	runtime.KeepAlive(t)
	return wrap(out)
}

// Sum adds all elements (a 0-dim tensor).
func (t *Tensor) Sum() *Tensor { return reduce("sum", C.LV_OP_SUM, t, nil, false) }

// Mean averages all elements.
func (t *Tensor) Mean() *Tensor { return reduce("mean", C.LV_OP_MEAN, t, nil, false) }

// Max is the largest element.
func (t *Tensor) Max() *Tensor { return reduce("amax", C.LV_OP_AMAX, t, nil, false) }

// Min is the smallest element.
func (t *Tensor) Min() *Tensor { return reduce("amin", C.LV_OP_AMIN, t, nil, false) }

// Var is the unbiased variance of all elements.
func (t *Tensor) Var() *Tensor { return reduce("var", C.LV_OP_VAR, t, nil, false) }

// Std is the unbiased standard deviation of all elements.
func (t *Tensor) Std() *Tensor { return reduce("std", C.LV_OP_STD, t, nil, false) }

// SumDims sums over dims, keeping them as size 1 when keep is set.
func (t *Tensor) SumDims(dims []int64, keep bool) *Tensor {
	return reduce("sum", C.LV_OP_SUM, t, dims, keep)
}
