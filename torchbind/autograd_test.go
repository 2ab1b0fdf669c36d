package torchbind

import (
	"math"
	"testing"
)

func TestBackwardGradients(t *testing.T) {
	t.Parallel()
	WithScope(func(*Scope) {
		mustTry(t, func() {
			x := FromSlice([]float64{1, -2, 3}).SetRequiresGrad(true)
			w := FromSlice([]float64{0.5, 0.25, 2}).SetRequiresGrad(true)
			// y = Σ (w·x)² → ∂y/∂x = 2 w² x, ∂y/∂w = 2 w x²
			x.Mul(w).Square().Sum().Backward()
			gx, gw := x.Grad().Float64s(), w.Grad().Float64s()
			xs, ws := []float64{1, -2, 3}, []float64{0.5, 0.25, 2}
			for i := range xs {
				if math.Abs(gx[i]-2*ws[i]*ws[i]*xs[i]) > 1e-15 || math.Abs(gw[i]-2*ws[i]*xs[i]*xs[i]) > 1e-15 {
					t.Fatalf("grad %d: %v %v", i, gx[i], gw[i])
				}
			}
			// Gradients accumulate until dropped.
			x.Sum().Backward()
			if g := x.Grad().Float64s(); math.Abs(g[0]-(2*0.25*1+1)) > 1e-15 {
				t.Fatalf("accumulated grad %v", g)
			}
			x.ZeroGrad()
			if x.Grad() != nil {
				t.Fatal("ZeroGrad left a gradient")
			}
		})
	})
}

func TestNoGradAndDetach(t *testing.T) {
	t.Parallel()
	WithScope(func(*Scope) {
		mustTry(t, func() {
			x := Ones([]int64{3}, Options{}).SetRequiresGrad(true)
			var y *Tensor
			NoGrad(func() { y = x.MulScalar(2) })
			if y.RequiresGrad() {
				t.Fatal("op under NoGrad requires grad")
			}
			if !x.MulScalar(2).RequiresGrad() {
				t.Fatal("grad mode not restored after NoGrad")
			}
			if x.MulScalar(3).Detach().RequiresGrad() {
				t.Fatal("detached tensor requires grad")
			}
		})
	})
}
