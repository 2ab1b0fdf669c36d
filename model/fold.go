package model

import tb "github.com/ludvae/ludvae/torchbind"

// A 1×1 convolution beside a 3×3 one, with no nonlinearity between them, is
// a single 3×3 convolution whose weights are the product of the two. The
// network has two such pairs on its widest paths: each encoder's input
// convolution (C → F channels) into the first convolution of its first
// block, and the last convolution of the decoder into the output
// convolution (F → C). Folded, an F→F convolution at full resolution
// becomes a C→F or F→C one: a twelfth of a training step's convolution
// work and of a synthesis. The parameters stay the authors' and receive
// their gradients through the product, so only rounding differs (the
// float64 parity with the official vectors is unchanged).

var pad1 = tb.Conv2dOptions{Padding: [2]int64{1, 1}}

// inFolded is next(in(x)) for a 1×1 in and a 3×3 next with zero padding.
// Only in's bias needs care: next sees it from pixels inside the image and
// zeros from the padding, so it contributes a map that is constant inside
// and smaller along the border, the convolution of a ones image with
// Σ_c next.W[:, c]·in.b[c].
func inFolded(in, next *Conv2d, x *tb.Tensor) (y *tb.Tensor) {
	tb.WithScope(func(sc *tb.Scope) { // the weight products are temporaries
		c := next.Weight.Size(1)
		w1 := in.Weight.Reshape(c, -1)                                      // [C_mid, C_in]
		w := next.Weight.Permute(0, 2, 3, 1).Matmul(w1).Permute(0, 3, 1, 2) // [O, C_in, 3, 3]
		// The permuted product is strided like channels-last, which would
		// turn this convolution and everything after it channels-last: the
		// folded weight takes the layout of the one it stands in for.
		y = sc.Keep(tb.Conv2d(x, w.ContiguousAs(next.Weight), next.Bias, pad1))
		k := next.Weight.Mul(in.Bias.Reshape(1, c, 1, 1)).SumDims([]int64{1}, true) // [O, 1, 3, 3]
		s := x.Shape()
		ones := tb.Ones([]int64{1, 1, s[2], s[3]}, k.Options())
		border := tb.Conv2d(ones, k, nil, pad1) // [1, O, H, W]
		if border.DType() != y.DType() {        // autocast: y is bfloat16
			border = border.ToDType(y.DType())
		}
		y.AddInPlace(border)
	})
	return y
}

// outFolded is out(last(d)) for a 3×3 last and a 1×1 out.
func outFolded(last, out *Conv2d, d *tb.Tensor) (y *tb.Tensor) {
	tb.WithScope(func(sc *tb.Scope) {
		p, f := out.Weight.Size(0), last.Weight.Size(0)
		wo := out.Weight.Reshape(p, f)
		w := wo.Matmul(last.Weight.Reshape(f, -1)).Reshape(p, last.Weight.Size(1), 3, 3)
		b := wo.Matmul(last.Bias.Reshape(f, 1)).Reshape(p).Add(out.Bias)
		y = sc.Keep(tb.Conv2d(d, w.ContiguousAs(last.Weight), b, pad1))
	})
	return y
}
