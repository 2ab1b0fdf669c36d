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
		m = buildDnCNN(cfg, o, gen)
	})
	return m, err
}

// buildDnCNN draws the parameters layer by layer, in state-dict order.
func buildDnCNN(cfg DnCNNConfig, o tb.Options, gen *tb.Generator) *DnCNN {
	m := &DnCNN{Config: cfg}
	for k := 0; k < cfg.Layers; k++ {
		in, out := cfg.Features, cfg.Features
		if k == 0 {
			in = cfg.Channels
		}
		if k == cfg.Layers-1 {
			out = cfg.Channels
		}
		m.Convs = append(m.Convs, orthogonalConv(in, out, o, gen))
		if k >= 1 && k <= cfg.Layers-2 {
			m.BNs = append(m.BNs, kairBatchNorm(out, o, gen))
		}
	}
	return m
}

// orthogonalConv is a 3×3 convolution with an orthogonal weight of gain
// dncnnInitGain and a zero bias.
func orthogonalConv(in, out int, o tb.Options, gen *tb.Generator) *Conv2d {
	rows, cols := out, in*9
	var a *tb.Tensor
	tb.NoGrad(func() { a = tb.Randn([]int64{int64(rows), int64(cols)}, tb.Options{DType: tb.Float64}, gen) })
	q := orthogonal(a.Float64s(), rows, cols)
	a.Close()
	for i := range q {
		q[i] *= dncnnInitGain
	}
	w := param(tb.FromSlice(q, int64(out), int64(in), 3, 3), o)
	b := param(tb.Zeros([]int64{int64(out)}, tb.Options{DType: tb.Float64}), o)
	return &Conv2d{Weight: w, Bias: b, pad: 1}
}

// kairBatchNorm is a batch norm initialized as KAIR's init_bn_type
// "uniform".
func kairBatchNorm(c int, o tb.Options, gen *tb.Generator) *BatchNorm2d {
	var u *tb.Tensor
	tb.NoGrad(func() {
		r := tb.Rand([]int64{int64(c)}, tb.Options{DType: tb.Float64}, gen)
		defer r.Close()
		u = r.MulScalar(dncnnBNInitHi - dncnnBNInitLo).AddScalar(dncnnBNInitLo)
	})
	n := []int64{int64(c)}
	return &BatchNorm2d{
		Weight:            param(u, o),
		Bias:              param(tb.Zeros(n, tb.Options{DType: tb.Float64}), o),
		RunningMean:       tb.Zeros(n, o).Persist(),
		RunningVar:        tb.Ones(n, o).Persist(),
		NumBatchesTracked: tb.Zeros(nil, tb.Options{DType: tb.Int64, Device: o.Device}).Persist(),
	}
}

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
