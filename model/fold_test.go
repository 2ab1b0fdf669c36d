package model

import (
	"testing"

	tb "github.com/ludvae/ludvae/torchbind"
)

// TestFoldedConvolutions checks both folds against the two convolutions
// applied one after the other, in float64 on odd-sized images, with every
// bias non-zero (a border map that ignored the padding would be off by
// O(1) along the edges): values to 1e-12, the gradients of all four
// parameters, and the output's memory layout (NCHW stays NCHW).
func TestFoldedConvolutions(t *testing.T) {
	t.Parallel()
	g := tb.NewGenerator(5, tb.CPU)
	defer g.Close()
	f64 := tb.Options{DType: tb.Float64}
	param := func(s ...int64) *tb.Tensor { return tb.Randn(s, f64, g).SetRequiresGrad(true) }
	conv := func(out, in, k int64) *Conv2d {
		return &Conv2d{Weight: param(out, in, k, k), Bias: param(out), pad: k / 2}
	}
	cases := []struct {
		name   string
		a, b   *Conv2d // b(a(x))
		folded func(a, b *Conv2d, x *tb.Tensor) *tb.Tensor
		xShape []int64
	}{
		{"input 1x1 into 3x3", conv(6, 3, 1), conv(6, 6, 3), inFolded, []int64{2, 3, 7, 5}},
		{"3x3 into output 1x1", conv(6, 6, 3), conv(3, 6, 1), outFolded, []int64{2, 6, 5, 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb.WithScope(func(*tb.Scope) {
				mustTry(t, func() {
					x := tb.Randn(c.xShape, f64, g)
					w := tb.Randn(c.xShape[:1], f64, g) // weights the outputs so every gradient is non-trivial
					params := []*tb.Tensor{c.a.Weight, c.a.Bias, c.b.Weight, c.b.Bias}
					want := c.b.Forward(c.a.Forward(x))
					got := c.folded(c.a, c.b, x)
					if !got.IsContiguous() {
						t.Errorf("NCHW in, NCHW weights: the folded output is not NCHW (channels-last %v)", got.IsChannelsLast())
					}
					if d := maxAbsErr(t, got, want); d > 1e-12 {
						t.Fatalf("folded differs from unfolded by %g", d)
					}
					loss := func(y *tb.Tensor) *tb.Tensor {
						return y.Square().SumDims([]int64{1, 2, 3}, false).Mul(w).Sum()
					}
					gw, gg := gradients(loss(want), params), gradients(loss(got), params)
					for i := range gw {
						if d := maxAbsErr(t, gg[i], gw[i]); d > 1e-9 {
							t.Errorf("gradient of parameter %d differs by %g", i, d)
						}
					}
				})
			})
		})
	}
}

// gradients returns d loss / d p for each p, and clears them.
func gradients(loss *tb.Tensor, ps []*tb.Tensor) []*tb.Tensor {
	loss.Backward()
	out := make([]*tb.Tensor, len(ps))
	for i, p := range ps {
		out[i] = p.Grad()
		p.ZeroGrad()
	}
	return out
}
