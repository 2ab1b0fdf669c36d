package torchbind

// #include "ludvae.h"
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Tensor is a handle to a libtorch tensor. Its memory is released by Close,
// by the Scope it was created in, or at the latest by its finalizer.
type Tensor struct {
	h     handle
	scope *Scope
}

// wrap takes ownership of a shim handle; NULL (an undefined tensor) gives nil.
func wrap(h C.lv_tensor) *Tensor {
	if h == nil {
		return nil
	}
	t := &Tensor{}
	t.h.store(unsafe.Pointer(h))
	live.Add(1)
	runtime.SetFinalizer(t, func(t *Tensor) { t.free() })
	track(t)
	return t
}

// ptr returns the handle, panicking on a closed tensor. A nil *Tensor is the
// undefined tensor (no bias, no gradient).
func (t *Tensor) ptr() C.lv_tensor {
	if t == nil {
		return nil
	}
	h := t.h.load()
	if h == nil {
		fail("tensor", "use of a closed tensor (its scope was closed, or Close was called)")
	}
	return C.lv_tensor(h)
}

// handle returns the handle of a tensor that must be defined: accessors
// on a nil *Tensor panic with an *Error rather than crash in C.
func (t *Tensor) handle() C.lv_tensor {
	if t == nil {
		fail("tensor", "use of an undefined (nil) tensor")
	}
	return t.ptr()
}

// Close frees the tensor now. It is idempotent and safe on nil.
func (t *Tensor) Close() {
	if t == nil {
		return
	}
	untrack(t)
	t.free()
}

func (t *Tensor) free() {
	if h := t.h.swap(nil); h != nil {
		C.lv_tensor_free(C.lv_tensor(h))
		live.Add(-1)
	}
}

// live counts the tensor handles not yet freed.
var live atomic.Int64

// LiveTensors is the number of tensor handles not yet freed: a leak detector
// for tests and long runs.
func LiveTensors() int64 { return live.Load() }

// Closed reports whether the tensor has been freed.
func (t *Tensor) Closed() bool { return t.h.load() == nil }

// Shape returns the sizes of the dimensions.
func (t *Tensor) Shape() []int64 {
	h := t.handle()
	n := int(C.lv_ndim(h))
	s := make([]int64, n)
	if n > 0 {
		C.lv_shape(h, (*C.int64_t)(unsafe.Pointer(&s[0])))
	}
	runtime.KeepAlive(t)
	return s
}

// Dim is the number of dimensions.
func (t *Tensor) Dim() int {
	n := int(C.lv_ndim(t.handle()))
	runtime.KeepAlive(t)
	return n
}

// Size returns the size of dimension d (negative d counts from the end).
func (t *Tensor) Size(d int) int64 {
	s := t.Shape()
	if d < 0 {
		d += len(s)
	}
	if d < 0 || d >= len(s) {
		fail("size", "dimension %d out of range for shape %v", d, s)
	}
	return s[d]
}

// Numel is the number of elements.
func (t *Tensor) Numel() int64 { return numel(t.Shape()) }

func numel(shape []int64) int64 {
	n := int64(1)
	for _, s := range shape {
		n *= s
	}
	return n
}

// DType is the element type.
func (t *Tensor) DType() DType {
	d := DType(C.lv_dtype(t.handle()))
	runtime.KeepAlive(t)
	if d < 0 {
		fail("dtype", "tensor has a dtype ludvae does not support")
	}
	return d
}

// Device is where the tensor lives.
func (t *Tensor) Device() Device {
	var typ, idx C.int
	C.lv_device(t.handle(), &typ, &idx)
	runtime.KeepAlive(t)
	return Device{Type: DeviceType(typ), Index: int(idx)}
}

// RequiresGrad reports whether autograd records operations on t.
func (t *Tensor) RequiresGrad() bool {
	r := C.lv_requires_grad(t.handle()) != 0
	runtime.KeepAlive(t)
	return r
}

// IsContiguous reports whether t is row-major contiguous.
func (t *Tensor) IsContiguous() bool {
	r := C.lv_is_contiguous(t.handle(), 0) != 0
	runtime.KeepAlive(t)
	return r
}

// IsChannelsLast reports whether t is contiguous in channels-last (NHWC) order.
func (t *Tensor) IsChannelsLast() bool {
	r := C.lv_is_contiguous(t.handle(), 1) != 0
	runtime.KeepAlive(t)
	return r
}

// IsBlocked reports whether t is in oneDNN's blocked layout (Blocked).
func (t *Tensor) IsBlocked() bool {
	r := C.lv_is_mkldnn(t.handle()) != 0
	runtime.KeepAlive(t)
	return r
}

func (t *Tensor) String() string {
	if t == nil {
		return "Tensor(undefined)"
	}
	if t.Closed() {
		return "Tensor(closed)"
	}
	return fmt.Sprintf("Tensor(%v, %v, %v)", t.Shape(), t.DType(), t.Device())
}

// Item returns the value of a one-element tensor as float64.
func (t *Tensor) Item() float64 {
	var v C.double
	check("item", C.lv_item(t.ptr(), &v))
	runtime.KeepAlive(t)
	return float64(v)
}

// To returns t converted to dtype dt on device d (t itself is unchanged).
func (t *Tensor) To(dt DType, d Device) *Tensor {
	var out C.lv_tensor
	check("to", C.lv_to(t.ptr(), C.int(dt), C.int(d.Type), C.int(d.Index), &out))
	runtime.KeepAlive(t)
	return wrap(out)
}

// ToDevice moves t to d keeping its dtype.
func (t *Tensor) ToDevice(d Device) *Tensor { return t.To(t.DType(), d) }

// ToDType converts t to dt keeping its device.
func (t *Tensor) ToDType(dt DType) *Tensor { return t.To(dt, t.Device()) }

// Clone returns a copy with its own memory (recorded by autograd).
func (t *Tensor) Clone() *Tensor {
	var out C.lv_tensor
	check("clone", C.lv_clone(t.ptr(), &out))
	runtime.KeepAlive(t)
	return wrap(out)
}

// shapeString formats a shape for error messages.
func shapeString(s []int64) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
