package model

import (
	"math"

	tb "github.com/ludvae/ludvae/torchbind"
)

// KAIR's initialization of DnCNN (models/select_network.py init_weights
// with train_dncnn.json's init_type "orthogonal", init_bn_type "uniform",
// init_gain 0.2).
const (
	dncnnInitGain                = 0.2
	dncnnBNInitLo, dncnnBNInitHi = 0.1, 1.0
)

// NewDnCNN builds a DnCNN initialized as KAIR does, drawn from seed:
// convolution weights orthogonal with gain 0.2 (torch.nn.init.orthogonal_)
// and zero biases; batch-norm weights uniform in [0.1, 1), zero biases,
// running mean 0, running variance 1, no batches counted.
func NewDnCNN(cfg DnCNNConfig, o tb.Options, seed uint64) (m *DnCNN, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	err = tb.Try(func() {
		gen := tb.NewGenerator(seed, tb.CPU)
		defer gen.Close()
		m = buildDnCNN(cfg, kairInit{gen: gen, opt: o})
	})
	return m, err
}

// kairInit draws DnCNN's parameters as KAIR's init_weights does.
type kairInit struct {
	gen *tb.Generator
	opt tb.Options
}

// conv is an orthogonal weight of gain dncnnInitGain (of the normal draws
// [out, in·k·k]) and a zero bias.
func (d kairInit) conv(in, out, k int) (w, b *tb.Tensor) {
	rows, cols := out, in*k*k
	var a *tb.Tensor
	tb.NoGrad(func() { a = tb.Randn([]int64{int64(rows), int64(cols)}, tb.Options{DType: tb.Float64}, d.gen) })
	q := orthogonal(a.Float64s(), rows, cols)
	a.Close()
	for i := range q {
		q[i] *= dncnnInitGain
	}
	w = param(tb.FromSlice(q, int64(out), int64(in), int64(k), int64(k)), d.opt)
	b = param(tb.Zeros([]int64{int64(out)}, tb.Options{DType: tb.Float64}), d.opt)
	return w, b
}

// batchNorm is init_bn_type "uniform": weight uniform in [0.1, 1), zero
// bias.
func (d kairInit) batchNorm(c int) (w, b *tb.Tensor) {
	var u *tb.Tensor
	tb.NoGrad(func() {
		r := tb.Rand([]int64{int64(c)}, tb.Options{DType: tb.Float64}, d.gen)
		defer r.Close()
		u = r.MulScalar(dncnnBNInitHi - dncnnBNInitLo).AddScalar(dncnnBNInitLo)
	})
	return param(u, d.opt), param(tb.Zeros([]int64{int64(c)}, tb.Options{DType: tb.Float64}), d.opt)
}

func (d kairInit) options() tb.Options { return d.opt }

// param converts a float64 tensor to a trainable leaf of dtype and device
// o, and closes it.
func param(t *tb.Tensor, o tb.Options) *tb.Tensor {
	defer t.Close()
	var p *tb.Tensor
	tb.NoGrad(func() { p = t.To(o.DType, o.Device).Clone().Persist() })
	return p.SetRequiresGrad(true)
}

// orthogonal returns the rows×cols (row-major) matrix torch's
// init.orthogonal_ makes of the normal draws a: the Q factor of the QR
// decomposition of a (of its transpose when rows < cols), with the signs
// that make R's diagonal positive. That Q is what Gram–Schmidt gives on the
// columns of the tall matrix; it is run twice per column ("twice is
// enough"), which keeps the columns orthogonal to rounding.
func orthogonal(a []float64, rows, cols int) []float64 {
	tall := rows >= cols
	n, k := rows, cols // the tall matrix is n×k, column j at cols[j]
	if !tall {
		n, k = cols, rows
	}
	col := make([][]float64, k)
	for j := range col {
		col[j] = make([]float64, n)
		for i := range col[j] {
			if tall {
				col[j][i] = a[i*cols+j]
			} else {
				col[j][i] = a[j*cols+i]
			}
		}
	}
	for j := range col {
		for range 2 {
			for p := 0; p < j; p++ {
				d := dot(col[p], col[j])
				for i := range col[j] {
					col[j][i] -= d * col[p][i]
				}
			}
		}
		norm := math.Sqrt(dot(col[j], col[j]))
		for i := range col[j] {
			col[j][i] /= norm
		}
	}
	out := make([]float64, rows*cols)
	for j := range col {
		for i, v := range col[j] {
			if tall {
				out[i*cols+j] = v
			} else {
				out[j*cols+i] = v
			}
		}
	}
	return out
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
