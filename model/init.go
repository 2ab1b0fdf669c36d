package model

import (
	"math"

	tb "github.com/ludvae/ludvae/torchbind"
)

// initializer draws parameters as torch.nn.Conv2d.reset_parameters does:
// kaiming_uniform(a=√5) for the weight, i.e. U(−1/√fan_in, 1/√fan_in), and
// the same bound for the bias.
type initializer struct {
	gen *tb.Generator
	opt tb.Options
}

func (in *initializer) conv(cin, cout, k int) (w, b *tb.Tensor) {
	bound := 1 / math.Sqrt(float64(cin*k*k))
	uniform := func(shape ...int64) *tb.Tensor {
		var t *tb.Tensor
		tb.WithScope(func(s *tb.Scope) {
			tb.NoGrad(func() {
				u := tb.Rand(shape, tb.Options{DType: tb.Float64}, in.gen)
				t = s.Keep(u.MulScalar(2*bound).SubScalar(bound).To(in.opt.DType, in.opt.Device))
			})
		})
		return t.Persist().SetRequiresGrad(true)
	}
	return uniform(int64(cout), int64(cin), int64(k), int64(k)), uniform(int64(cout))
}
