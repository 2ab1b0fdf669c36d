package torchbind

// #include "ludvae.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// Element is a Go type that maps directly onto a tensor dtype.
type Element interface {
	~float32 | ~float64 | ~uint8 | ~int8 | ~int16 | ~int32 | ~int64 | ~bool
}

func dtypeOf[T Element]() DType {
	var z T
	switch any(z).(type) {
	case float32:
		return Float32
	case float64:
		return Float64
	case uint8:
		return Uint8
	case int8:
		return Int8
	case int16:
		return Int16
	case int32:
		return Int32
	case int64:
		return Int64
	case bool:
		return Bool
	}
	fail("dtype", "unsupported Go element type %T", z)
	return 0
}

// FromSlice copies data into a new CPU tensor of the given shape (a 1-D
// tensor when no shape is given).
func FromSlice[T Element](data []T, shape ...int64) *Tensor {
	if len(shape) == 0 {
		shape = []int64{int64(len(data))}
	}
	if numel(shape) != int64(len(data)) {
		fail("from slice", "%d values do not fill shape %s", len(data), shapeString(shape))
	}
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	t := fromData(p, shape, dtypeOf[T]())
	runtime.KeepAlive(data)
	return t
}

// Scalar makes a 0-dim CPU tensor.
func Scalar[T Element](v T) *Tensor {
	d := []T{v}
	t := fromData(unsafe.Pointer(&d[0]), nil, dtypeOf[T]())
	runtime.KeepAlive(d)
	return t
}

// FromBytes makes a CPU tensor from raw little-endian elements of dtype dt.
func FromBytes(dt DType, shape []int64, raw []byte) *Tensor {
	if want := numel(shape) * int64(dt.Size()); want != int64(len(raw)) {
		fail("from bytes", "%d bytes for shape %s of %v, expected %d", len(raw), shapeString(shape), dt, want)
	}
	var p unsafe.Pointer
	if len(raw) > 0 {
		p = unsafe.Pointer(&raw[0])
	}
	t := fromData(p, shape, dt)
	runtime.KeepAlive(raw)
	return t
}

func fromData(p unsafe.Pointer, shape []int64, dt DType) *Tensor {
	var out C.lv_tensor
	check("from data", C.lv_from_data(p, cints(shape), C.int(len(shape)), C.int(dt), &out))
	return wrap(out)
}

// Values copies the elements, in row-major order, into a new Go slice; the
// tensor's dtype must match T.
func Values[T Element](t *Tensor) []T {
	if dt, want := t.DType(), dtypeOf[T](); dt != want {
		fail("values", "tensor is %v, asked for %v", dt, want)
	}
	out := make([]T, t.Numel())
	var p unsafe.Pointer
	if len(out) > 0 {
		p = unsafe.Pointer(&out[0])
	}
	var z T
	check("values", C.lv_copy_to(t.ptr(), p, C.size_t(len(out)*int(unsafe.Sizeof(z)))))
	runtime.KeepAlive(t)
	return out
}

// Float64s returns the elements converted to float64.
func (t *Tensor) Float64s() []float64 {
	if t.DType() == Float64 {
		return Values[float64](t)
	}
	c := t.To(Float64, CPU)
	defer c.Close()
	return Values[float64](c)
}

// Float32s returns the elements converted to float32.
func (t *Tensor) Float32s() []float32 {
	if t.DType() == Float32 {
		return Values[float32](t)
	}
	c := t.To(Float32, CPU)
	defer c.Close()
	return Values[float32](c)
}

// Bytes returns the raw little-endian elements in row-major order.
func (t *Tensor) Bytes() []byte {
	out := make([]byte, t.Numel()*int64(t.DType().Size()))
	var p unsafe.Pointer
	if len(out) > 0 {
		p = unsafe.Pointer(&out[0])
	}
	check("bytes", C.lv_copy_to(t.ptr(), p, C.size_t(len(out))))
	runtime.KeepAlive(t)
	return out
}

// cints passes an int64 slice to C; Go memory without Go pointers may be
// handed to C for the duration of a call.
func cints(s []int64) *C.int64_t {
	if len(s) == 0 {
		return nil
	}
	return (*C.int64_t)(unsafe.Pointer(&s[0]))
}

// handles returns the shim handles of ts for a list argument.
func handles(ts []*Tensor) []C.lv_tensor {
	hs := make([]C.lv_tensor, len(ts))
	for i, t := range ts {
		hs[i] = t.ptr()
	}
	return hs
}
