package torchbind

// #include "ludvae.h"
import "C"

// Options says what dtype and device a new tensor gets. The zero value is
// float32 on the CPU.
type Options struct {
	DType  DType
	Device Device
}

// Full returns a tensor filled with v.
func Full(shape []int64, v float64, o Options) *Tensor {
	var out C.lv_tensor
	check("full", C.lv_full(cints(shape), C.int(len(shape)), C.double(v), C.int(o.DType), C.int(o.Device.Type), C.int(o.Device.Index), &out))
	return wrap(out)
}

// Zeros returns a tensor of zeros.
func Zeros(shape []int64, o Options) *Tensor { return Full(shape, 0, o) }

// Ones returns a tensor of ones.
func Ones(shape []int64, o Options) *Tensor { return Full(shape, 1, o) }

// ZerosLike returns zeros with t's shape, dtype, device and memory layout
// (a channels-last t gives a channels-last result, as torch.zeros_like).
func ZerosLike(t *Tensor) *Tensor { return inLayoutOf(t, Zeros(t.Shape(), t.Options())) }

// inLayoutOf returns x in t's layout, and closes x.
func inLayoutOf(t, x *Tensor) *Tensor {
	defer x.Close()
	return x.ContiguousAs(t)
}

// Options returns t's dtype and device.
func (t *Tensor) Options() Options { return Options{DType: t.DType(), Device: t.Device()} }

// Rand returns uniform samples in [0, 1) drawn from g (nil: the default generator).
func Rand(shape []int64, o Options, g *Generator) *Tensor { return random(shape, 0, o, g) }

// Randn returns standard normal samples drawn from g (nil: the default generator).
func Randn(shape []int64, o Options, g *Generator) *Tensor { return random(shape, 1, o, g) }

// Uniform returns samples of U(lo, hi) drawn from g (nil: the default
// generator) by libtorch's uniform_, the values torch.nn.init.uniform_
// draws for a tensor of o's dtype from the same generator state.
func Uniform(shape []int64, lo, hi float64, o Options, g *Generator) *Tensor {
	var out C.lv_tensor
	check("uniform", C.lv_uniform(cints(shape), C.int(len(shape)), C.double(lo), C.double(hi), C.int(o.DType), C.int(o.Device.Type), C.int(o.Device.Index), g.ptr(), &out))
	keepAlive(g)
	return wrap(out)
}

func random(shape []int64, kind int, o Options, g *Generator) *Tensor {
	var out C.lv_tensor
	check("random", C.lv_random(cints(shape), C.int(len(shape)), C.int(kind), C.int(o.DType), C.int(o.Device.Type), C.int(o.Device.Index), g.ptr(), &out))
	keepAlive(g)
	return wrap(out)
}

// Arange returns 0, 1, ..., n-1.
func Arange(n int64, o Options) *Tensor {
	var out C.lv_tensor
	check("arange", C.lv_arange(C.int64_t(n), C.int(o.DType), C.int(o.Device.Type), C.int(o.Device.Index), &out))
	return wrap(out)
}
