package torchbind

// #include "ludvae.h"
import "C"

import "runtime"

// Conv2dOptions are the geometry of a 2-D convolution; zero values mean
// stride 1, padding 0, dilation 1, groups 1.
type Conv2dOptions struct {
	Stride, Padding, Dilation [2]int64
	Groups                    int64
}

// Conv2d convolves NCHW x with weight [out, in/groups, kh, kw] and adds bias
// (nil for none).
func Conv2d(x, weight, bias *Tensor, o Conv2dOptions) *Tensor {
	stride, dil := o.Stride, o.Dilation
	if stride == [2]int64{} {
		stride = [2]int64{1, 1}
	}
	if dil == [2]int64{} {
		dil = [2]int64{1, 1}
	}
	groups := o.Groups
	if groups == 0 {
		groups = 1
	}
	pad := o.Padding
	var out C.lv_tensor
	check("conv2d", C.lv_conv2d(x.ptr(), weight.ptr(), bias.ptr(), cints(stride[:]), cints(pad[:]), cints(dil[:]), C.int64_t(groups), &out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(weight)
	runtime.KeepAlive(bias)
	return wrap(out)
}

// BatchNorm normalizes NCHW x per channel; in training it uses the batch
// statistics and updates the running ones in place.
func BatchNorm(x, weight, bias, runningMean, runningVar *Tensor, training bool, momentum, eps float64) *Tensor {
	var out C.lv_tensor
	check("batch_norm", C.lv_batch_norm(x.ptr(), weight.ptr(), bias.ptr(), runningMean.ptr(), runningVar.ptr(), cbool(training), C.double(momentum), C.double(eps), &out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(weight)
	runtime.KeepAlive(bias)
	runtime.KeepAlive(runningMean)
	runtime.KeepAlive(runningVar)
	return wrap(out)
}

// Reduction says how a loss combines its elements.
type Reduction int

// Reductions, equal to at::Reduction.
const (
	ReduceNone Reduction = iota
	ReduceMean
	ReduceSum
)

// MSELoss is the squared error between a and b, reduced by r.
func MSELoss(a, b *Tensor, r Reduction) *Tensor {
	var out C.lv_tensor
	check("mse_loss", C.lv_mse_loss(a.ptr(), b.ptr(), C.int(r), &out))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	return wrap(out)
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
