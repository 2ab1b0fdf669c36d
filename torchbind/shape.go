package torchbind

// #include "ludvae.h"
import "C"

import "runtime"

func shapeOp(name string, t *Tensor, f func(h C.lv_tensor, out *C.lv_tensor) C.lv_err) *Tensor {
	var out C.lv_tensor
	check(name, f(t.ptr(), &out))
	runtime.KeepAlive(t)
	return wrap(out)
}

// Reshape returns t with a new shape (one size may be −1).
func (t *Tensor) Reshape(shape ...int64) *Tensor {
	return shapeOp("reshape", t, func(h C.lv_tensor, o *C.lv_tensor) C.lv_err {
		return C.lv_reshape(h, cints(shape), C.int(len(shape)), o)
	})
}

// Permute reorders the dimensions.
func (t *Tensor) Permute(dims ...int64) *Tensor {
	return shapeOp("permute", t, func(h C.lv_tensor, o *C.lv_tensor) C.lv_err {
		return C.lv_permute(h, cints(dims), C.int(len(dims)), o)
	})
}

// Contiguous returns t in row-major memory order.
func (t *Tensor) Contiguous() *Tensor {
	return shapeOp("contiguous", t, func(h C.lv_tensor, o *C.lv_tensor) C.lv_err {
		return C.lv_contiguous(h, 0, o)
	})
}

// ChannelsLast returns a 4-D t laid out NHWC in memory (its shape stays NCHW).
func (t *Tensor) ChannelsLast() *Tensor {
	return shapeOp("channels_last", t, func(h C.lv_tensor, o *C.lv_tensor) C.lv_err {
		return C.lv_contiguous(h, 1, o)
	})
}

// Blocked returns t in oneDNN's blocked memory order (libtorch's MKLDNN
// layout, CPU float32 only; t itself when it already is). Such a tensor
// keeps its NCHW shape but is opaque: only convolutions, ReLU, addition
// and multiplication of tensors alike, and Dense read it. Chains of
// convolutions then run without the reorders to and from NCHW that
// oneDNN needs around each one otherwise.
func (t *Tensor) Blocked() *Tensor {
	return shapeOp("to_mkldnn", t, func(h C.lv_tensor, o *C.lv_tensor) C.lv_err {
		return C.lv_to_mkldnn(h, o)
	})
}

// Dense returns a blocked t (Blocked) as an ordinary contiguous tensor,
// and any other t as a new handle to the same tensor: either way the
// caller closes what it returns.
func (t *Tensor) Dense() *Tensor {
	return shapeOp("to_dense", t, func(h C.lv_tensor, o *C.lv_tensor) C.lv_err {
		return C.lv_to_dense(h, o)
	})
}

// ContiguousAs returns x contiguous in t's memory layout: channels-last
// when t is (and is not also plain contiguous, as a 1×1 or one-channel
// tensor is), row-major otherwise; torch's preserve_format.
func (x *Tensor) ContiguousAs(t *Tensor) *Tensor {
	if !t.IsContiguous() && t.IsChannelsLast() {
		return x.ChannelsLast()
	}
	return x.Contiguous()
}

// Narrow returns length elements of dim starting at start (a view).
func (t *Tensor) Narrow(dim, start, length int64) *Tensor {
	return shapeOp("narrow", t, func(h C.lv_tensor, o *C.lv_tensor) C.lv_err {
		return C.lv_narrow(h, C.int64_t(dim), C.int64_t(start), C.int64_t(length), o)
	})
}

// Squeeze removes dim if its size is 1.
func (t *Tensor) Squeeze(dim int64) *Tensor {
	return shapeOp("squeeze", t, func(h C.lv_tensor, o *C.lv_tensor) C.lv_err {
		return C.lv_squeeze(h, C.int64_t(dim), o)
	})
}

// AsStrided returns a view with explicit sizes, strides and storage offset.
func (t *Tensor) AsStrided(shape, stride []int64, offset int64) *Tensor {
	if len(shape) != len(stride) {
		fail("as_strided", "shape %v and stride %v differ in length", shape, stride)
	}
	return shapeOp("as_strided", t, func(h C.lv_tensor, o *C.lv_tensor) C.lv_err {
		return C.lv_as_strided(h, cints(shape), cints(stride), C.int(len(shape)), C.int64_t(offset), o)
	})
}

// IndexSelect picks the entries of dim listed in the int64 tensor index.
func (t *Tensor) IndexSelect(dim int64, index *Tensor) *Tensor {
	defer runtime.KeepAlive(index)
	return shapeOp("index_select", t, func(h C.lv_tensor, o *C.lv_tensor) C.lv_err {
		return C.lv_index_select(h, C.int64_t(dim), index.ptr(), o)
	})
}

// IndexCopy returns a copy of t whose entries index along dim are replaced by
// src (differentiable in both t and src).
func (t *Tensor) IndexCopy(dim int64, index, src *Tensor) *Tensor {
	defer runtime.KeepAlive(index)
	defer runtime.KeepAlive(src)
	return shapeOp("index_copy", t, func(h C.lv_tensor, o *C.lv_tensor) C.lv_err {
		return C.lv_index_copy(h, C.int64_t(dim), index.ptr(), src.ptr(), o)
	})
}

// Cat concatenates tensors along dim.
func Cat(ts []*Tensor, dim int64) *Tensor {
	return listOp("cat", ts, func(hs *C.lv_tensor, n C.int, o *C.lv_tensor) C.lv_err {
		return C.lv_cat(hs, n, C.int64_t(dim), o)
	})
}

// Stack joins tensors of equal shape along a new dimension dim.
func Stack(ts []*Tensor, dim int64) *Tensor {
	return listOp("stack", ts, func(hs *C.lv_tensor, n C.int, o *C.lv_tensor) C.lv_err {
		return C.lv_stack(hs, n, C.int64_t(dim), o)
	})
}

func listOp(name string, ts []*Tensor, f func(*C.lv_tensor, C.int, *C.lv_tensor) C.lv_err) *Tensor {
	if len(ts) == 0 {
		fail(name, "empty tensor list")
	}
	hs := handles(ts)
	var out C.lv_tensor
	check(name, f(&hs[0], C.int(len(hs)), &out))
	runtime.KeepAlive(ts)
	return wrap(out)
}

// Split cuts t into pieces of size along dim (the last may be smaller).
func (t *Tensor) Split(size, dim int64) []*Tensor {
	if size <= 0 {
		fail("split", "split size %d must be positive", size)
	}
	n := (t.Size(int(dim)) + size - 1) / size
	if n == 0 {
		n = 1
	}
	hs := make([]C.lv_tensor, n)
	var got C.int
	check("split", C.lv_split(t.ptr(), C.int64_t(size), C.int64_t(dim), &hs[0], C.int(n), &got))
	runtime.KeepAlive(t)
	out := make([]*Tensor, int(got))
	for i := range out {
		out[i] = wrap(hs[i])
	}
	return out
}
