package model

import (
	"math"

	tb "github.com/ludvae/ludvae/torchbind"
)

// initializer draws parameters as torch.nn.Conv2d.reset_parameters does,
// value for value: kaiming_uniform_(a=√5) for the weight and
// U(−1/√fan_in, 1/√fan_in) for the bias, each by uniform_ on a float32 CPU
// tensor (torch's default dtype) from the shared generator, the bounds
// computed with torch.nn.init's float operations. Drawn in the authors'
// module order (build), a seed gives the weights torch.manual_seed(seed)
// gives the reference network, so runs of ludvae and of eager PyTorch with
// one seed start from the same point. Other dtypes and devices get those
// float32 values converted.
type initializer struct {
	gen *tb.Generator
	opt tb.Options
}

// kaimingA is torch's a = √5 of Conv2d.reset_parameters.
var kaimingA = math.Sqrt(5)

func (in *initializer) conv(cin, cout, k int) (w, b *tb.Tensor) {
	fanIn := float64(cin * k * k)
	gain := math.Sqrt(2.0 / (1 + kaimingA*kaimingA)) // init.calculate_gain("leaky_relu", a)
	wBound := math.Sqrt(3.0) * (gain / math.Sqrt(fanIn))
	w = in.uniform(wBound, int64(cout), int64(cin), int64(k), int64(k))
	b = in.uniform(1/math.Sqrt(fanIn), int64(cout))
	return w, b
}

func (in *initializer) uniform(bound float64, shape ...int64) *tb.Tensor {
	var t *tb.Tensor
	tb.WithScope(func(s *tb.Scope) {
		tb.NoGrad(func() {
			u := tb.Uniform(shape, -bound, bound, tb.Options{DType: tb.Float32}, in.gen)
			t = s.Keep(u.To(in.opt.DType, in.opt.Device))
		})
	})
	return t.Persist().SetRequiresGrad(true)
}

// batchNorm is nn.BatchNorm2d's reset_parameters: weight 1, bias 0.
func (in *initializer) batchNorm(c int) (w, b *tb.Tensor) {
	n := []int64{int64(c)}
	return param(tb.Ones(n, tb.Options{DType: tb.Float64}), in.opt), param(tb.Zeros(n, tb.Options{DType: tb.Float64}), in.opt)
}

func (in *initializer) options() tb.Options { return in.opt }
