package torchbind

import (
	"math"
	"testing"
)

func TestFromSliceRoundTrip(t *testing.T) {
	t.Parallel()
	WithScope(func(*Scope) {
		mustTry(t, func() {
			f32 := FromSlice([]float32{1, -2, 3.5, 4, 5, 6}, 2, 3)
			if got := f32.Shape(); !equalInts(got, []int64{2, 3}) || f32.DType() != Float32 || f32.Device() != CPU {
				t.Fatalf("float32 tensor: shape %v dtype %v device %v", got, f32.DType(), f32.Device())
			}
			if got := Values[float32](f32); got[2] != 3.5 || got[1] != -2 {
				t.Fatalf("float32 values %v", got)
			}
			if got := Values[int64](FromSlice([]int64{1 << 40, -7})); got[0] != 1<<40 || got[1] != -7 {
				t.Fatalf("int64 values %v", got)
			}
			if got := Values[uint8](FromSlice([]uint8{0, 255})); got[1] != 255 {
				t.Fatalf("uint8 values %v", got)
			}
			if got := Values[bool](FromSlice([]bool{true, false})); !got[0] || got[1] {
				t.Fatalf("bool values %v", got)
			}
			s := Scalar(2.5)
			if s.Dim() != 0 || s.Item() != 2.5 {
				t.Fatalf("scalar: dim %d item %v", s.Dim(), s.Item())
			}
		})
	})
}

func TestDTypeConversions(t *testing.T) {
	t.Parallel()
	// Every dtype round-trips small integers exactly; bf16/f16 keep 8/11 bits.
	for _, dt := range []DType{Float32, Float64, Float16, BFloat16, Uint8, Int8, Int16, Int32, Int64} {
		WithScope(func(*Scope) {
			mustTry(t, func() {
				x := FromSlice([]float64{0, 1, 2, 100}).ToDType(dt)
				if x.DType() != dt {
					t.Fatalf("ToDType(%v) gave %v", dt, x.DType())
				}
				if len(x.Bytes()) != 4*dt.Size() {
					t.Fatalf("%v: %d bytes", dt, len(x.Bytes()))
				}
				if got := x.Float64s(); got[3] != 100 || got[1] != 1 {
					t.Fatalf("%v: back to float64 %v", dt, got)
				}
			})
		})
	}
}

func TestElementwiseAndReductions(t *testing.T) {
	t.Parallel()
	a := []float64{0.5, -1, 2, 3}
	b := []float64{2, 4, -0.5, 1}
	cases := []struct {
		name string
		op   func(x, y *Tensor) *Tensor
		want func(x, y float64) float64
	}{
		{"add", (*Tensor).Add, func(x, y float64) float64 { return x + y }},
		{"sub", (*Tensor).Sub, func(x, y float64) float64 { return x - y }},
		{"mul", (*Tensor).Mul, func(x, y float64) float64 { return x * y }},
		{"div", (*Tensor).Div, func(x, y float64) float64 { return x / y }},
		{"exp", func(x, _ *Tensor) *Tensor { return x.Exp() }, func(x, _ float64) float64 { return math.Exp(x) }},
		{"square", func(x, _ *Tensor) *Tensor { return x.Square() }, func(x, _ float64) float64 { return x * x }},
		{"mulscalar", func(x, _ *Tensor) *Tensor { return x.MulScalar(3) }, func(x, _ float64) float64 { return 3 * x }},
		{"clamp", func(x, _ *Tensor) *Tensor { return x.Clamp(0, 1) }, func(x, _ float64) float64 { return math.Min(math.Max(x, 0), 1) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			WithScope(func(*Scope) {
				mustTry(t, func() {
					got := c.op(FromSlice(a), FromSlice(b)).Float64s()
					for i := range a {
						// float64 libm versus Go's math: a few ulps.
						if w := c.want(a[i], b[i]); math.Abs(got[i]-w) > 1e-14*math.Max(1, math.Abs(w)) {
							t.Fatalf("element %d: got %v want %v", i, got[i], w)
						}
					}
				})
			})
		})
	}
	WithScope(func(*Scope) {
		mustTry(t, func() {
			x := FromSlice([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
			if s := x.Sum().Item(); s != 21 {
				t.Fatalf("sum %v", s)
			}
			if m := x.Mean().Item(); m != 3.5 {
				t.Fatalf("mean %v", m)
			}
			if got := x.SumDims([]int64{1}, false).Float64s(); got[0] != 6 || got[1] != 15 {
				t.Fatalf("sum over dim 1: %v", got)
			}
			if v := x.Var().Item(); math.Abs(v-3.5) > 1e-15 {
				t.Fatalf("unbiased var %v, want 3.5", v)
			}
		})
	})
}

func TestShapeOps(t *testing.T) {
	t.Parallel()
	WithScope(func(*Scope) {
		mustTry(t, func() {
			x := Arange(24, Options{DType: Float64}).Reshape(2, 3, 4)
			p := x.Permute(2, 0, 1)
			if !equalInts(p.Shape(), []int64{4, 2, 3}) || p.IsContiguous() {
				t.Fatalf("permute: %v contiguous=%v", p.Shape(), p.IsContiguous())
			}
			if got := p.Contiguous().Float64s(); got[1] != 4 || got[3] != 12 {
				t.Fatalf("permuted data %v", got[:6])
			}
			n := x.Narrow(2, 1, 2)
			if got := n.Float64s(); !equalInts(n.Shape(), []int64{2, 3, 2}) || got[0] != 1 || got[2] != 5 {
				t.Fatalf("narrow %v %v", n.Shape(), got)
			}
			img := Arange(2*3*4*5, Options{}).Reshape(2, 3, 4, 5)
			cl := img.ChannelsLast()
			if !cl.IsChannelsLast() || !equalInts(cl.Shape(), img.Shape()) {
				t.Fatalf("channels last: %v %v", cl.IsChannelsLast(), cl.Shape())
			}
			if maxAbsDiff(cl.Float64s(), img.Float64s()) != 0 {
				t.Fatal("channels-last copy changed values")
			}
			parts := x.Split(2, 2)
			if len(parts) != 2 || !equalInts(parts[1].Shape(), []int64{2, 3, 2}) {
				t.Fatalf("split: %d parts", len(parts))
			}
			if back := Cat(parts, 2); maxAbsDiff(back.Float64s(), x.Float64s()) != 0 {
				t.Fatal("cat(split(x)) != x")
			}
			idx := FromSlice([]int64{1})
			rows := x.IndexSelect(0, idx)
			if !equalInts(rows.Shape(), []int64{1, 3, 4}) || rows.Float64s()[0] != 12 {
				t.Fatalf("index_select: %v", rows.Shape())
			}
			put := ZerosLike(x).IndexCopy(0, idx, rows)
			if got := put.Float64s(); got[0] != 0 || got[12] != 12 || got[23] != 23 {
				t.Fatalf("index_copy: %v", got)
			}
			st := Stack([]*Tensor{FromSlice([]float64{1, 2}), FromSlice([]float64{3, 4})}, 0)
			if !equalInts(st.Shape(), []int64{2, 2}) {
				t.Fatalf("stack %v", st.Shape())
			}
		})
	})
}

func TestConvAgainstDirectSum(t *testing.T) {
	t.Parallel()
	WithScope(func(*Scope) {
		mustTry(t, func() {
			g := NewGenerator(1, CPU)
			defer g.Close()
			o := Options{DType: Float64}
			x := Randn([]int64{1, 2, 5, 6}, o, g)
			w := Randn([]int64{3, 2, 3, 3}, o, g)
			b := Randn([]int64{3}, o, g)
			y := Conv2d(x, w, b, Conv2dOptions{Padding: [2]int64{1, 1}})
			if !equalInts(y.Shape(), []int64{1, 3, 5, 6}) {
				t.Fatalf("conv shape %v", y.Shape())
			}
			xs, ws, bs, ys := x.Float64s(), w.Float64s(), b.Float64s(), y.Float64s()
			for oc := 0; oc < 3; oc++ {
				for i := 0; i < 5; i++ {
					for j := 0; j < 6; j++ {
						s := bs[oc]
						for ic := 0; ic < 2; ic++ {
							for di := -1; di <= 1; di++ {
								for dj := -1; dj <= 1; dj++ {
									ii, jj := i+di, j+dj
									if ii < 0 || ii >= 5 || jj < 0 || jj >= 6 {
										continue
									}
									s += xs[(ic*5+ii)*6+jj] * ws[((oc*2+ic)*3+di+1)*3+dj+1]
								}
							}
						}
						if got := ys[(oc*5+i)*6+j]; math.Abs(got-s) > 1e-12 {
							t.Fatalf("conv[%d,%d,%d] = %v, direct sum %v", oc, i, j, got, s)
						}
					}
				}
			}
		})
	})
}

func TestLossAndNormClosedForms(t *testing.T) {
	t.Parallel()
	WithScope(func(*Scope) {
		mustTry(t, func() {
			if mse := MSELoss(FromSlice([]float64{1, 2}), FromSlice([]float64{0, 4}), ReduceMean).Item(); mse != 2.5 {
				t.Fatalf("mse %v", mse)
			}
			bn := BatchNorm(FromSlice([]float64{1, 3, 5, 7}, 2, 2, 1, 1), nil, nil, nil, nil, true, 0.1, 0)
			if got := bn.Float64s(); math.Abs(got[0]+1) > 1e-12 || math.Abs(got[2]-1) > 1e-12 {
				t.Fatalf("batch norm of {1,5},{3,7}: %v", got)
			}
		})
	})
}

func TestGeneratorSeed(t *testing.T) {
	t.Parallel()
	WithScope(func(*Scope) {
		mustTry(t, func() {
			g1, g2 := NewGenerator(42, CPU), NewGenerator(42, CPU)
			defer g1.Close()
			defer g2.Close()
			a := Randn([]int64{100}, Options{}, g1).Float64s()
			b := Randn([]int64{100}, Options{}, g2).Float64s()
			if maxAbsDiff(a, b) != 0 {
				t.Fatal("same seed, different numbers")
			}
			c := Rand([]int64{50}, Options{DType: Float64}, g1).Float64s()
			for _, v := range c {
				if v < 0 || v >= 1 {
					t.Fatalf("uniform sample %v outside [0,1)", v)
				}
			}
		})
	})
}

// TestLikeKeepsLayout: ZerosLike follows torch's zeros_like in
// keeping a channels-last tensor channels-last (Adam's state must share its
// parameter's strides for the multi-tensor kernels' fast path).
func TestLikeKeepsLayout(t *testing.T) {
	t.Parallel()
	WithScope(func(*Scope) {
		mustTry(t, func() {
			plain := Ones([]int64{2, 3, 4, 5}, Options{})
			cl := plain.ChannelsLast()
			for _, c := range []struct {
				name string
				x    *Tensor
				cl   bool
			}{{"zeros of NCHW", ZerosLike(plain), false}, {"zeros of NHWC", ZerosLike(cl), true}} {
				if c.x.IsChannelsLast() != c.cl || c.x.IsContiguous() == c.cl {
					t.Errorf("%s: channels-last %v, contiguous %v", c.name, c.x.IsChannelsLast(), c.x.IsContiguous())
				}
			}
		})
	})
}

// TestBlockedRoundTrip: Blocked gives an opaque tensor of the same shape
// that reads back bit for bit through Dense; dense tensors pass through
// Dense unchanged; the layout's limits (float32, no shape operations) are
// errors, not crashes.
func TestBlockedRoundTrip(t *testing.T) {
	t.Parallel()
	WithScope(func(*Scope) {
		mustTry(t, func() {
			g := NewGenerator(4, CPU)
			defer g.Close()
			x := Randn([]int64{2, 16, 5, 7}, Options{DType: Float32}, g)
			b := x.Blocked()
			if x.IsBlocked() || !b.IsBlocked() || !equalInts(b.Shape(), x.Shape()) || b.IsContiguous() || b.IsChannelsLast() {
				t.Fatalf("blocked: %v (dense input %v), shape %v, contiguous %v", b.IsBlocked(), x.IsBlocked(), b.Shape(), b.IsContiguous())
			}
			if b.Blocked().IsBlocked() != true {
				t.Error("Blocked of a blocked tensor is not blocked")
			}
			d := b.Dense()
			want, got := Values[float32](x), Values[float32](d)
			if d.IsBlocked() || !d.IsContiguous() || len(got) != len(want) {
				t.Fatalf("dense copy: blocked %v, contiguous %v, %d values", d.IsBlocked(), d.IsContiguous(), len(got))
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("value %d: %v after the round trip, %v before", i, got[i], want[i])
				}
			}
			if !equalF64(Values[float64](x.Dense().ToDType(Float64)), Values[float64](x.ToDType(Float64))) {
				t.Error("Dense changed a dense tensor")
			}
		})
		if err := Try(func() { Randn([]int64{1, 2, 3, 3}, Options{DType: Float32}, nil).Blocked().Narrow(0, 0, 1) }); err == nil {
			t.Error("narrowing a blocked tensor: no error")
		}
	})
}
