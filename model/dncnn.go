package model

import (
	"fmt"
	"strconv"

	tb "github.com/ludvae/ludvae/torchbind"
)

// DnCNNConfig is the size of KAIR's DnCNN (models/network_dncnn.py with
// act_mode "BR"): Layers 3×3 convolutions of Features channels, batch
// normalization and ReLU between them, and residual learning.
type DnCNNConfig struct {
	Channels int // in_nc = out_nc: 3 for colour, 1 for grey
	Features int // nc
	Layers   int // nb: convolutions in total
}

// DefaultDnCNN is the denoiser the LUD-VAE authors train on SIDD
// (LUD_VAE_sidd/DnCNN/options/train_dncnn.json): colour, 64 features,
// 17 layers — 559,363 parameters.
var DefaultDnCNN = DnCNNConfig{Channels: 3, Features: 64, Layers: 17}

// Validate reports a configuration that cannot be built.
func (c DnCNNConfig) Validate() error {
	if c.Channels < 1 || c.Features < 1 || c.Layers < 2 {
		return fmt.Errorf("DnCNN with %d channels, %d features and %d layers (need at least 1, 1 and 2)", c.Channels, c.Features, c.Layers)
	}
	return nil
}

// DnCNN is KAIR's DnCNN. Its modules sit in one nn.Sequential named
// "model": conv, ReLU, then Layers−2 times conv, BatchNorm, ReLU, then a
// last conv, so the state-dict keys are model.0 (first conv), model.3k−1
// and model.3k (conv and batch norm of layer k = 1..Layers−2) and
// model.3·Layers−4 (last conv); KAIR's load_state_dict reads ours.
type DnCNN struct {
	Config DnCNNConfig
	Convs  []*Conv2d      // Layers convolutions, first to last
	BNs    []*BatchNorm2d // after Convs[1] … Convs[Layers−2]
}

// Forward returns the denoised x − model(x) (KAIR's residual learning: the
// network estimates the noise). training selects PyTorch's train() mode:
// batch statistics, with the running ones updated in place; otherwise the
// running statistics are used, as in eval().
func (m *DnCNN) Forward(x *tb.Tensor, training bool) *tb.Tensor {
	y := m.Convs[0].Forward(x)
	y.ReluInPlace()
	for k, bn := range m.BNs {
		z := m.Convs[k+1].Forward(y)
		y.Close()
		y = bn.Forward(z, training)
		z.Close()
		y.ReluInPlace()
	}
	n := m.Convs[len(m.Convs)-1].Forward(y)
	y.Close()
	defer n.Close()
	return x.Sub(n)
}

// convKey and bnKey are the Sequential indices of layer k's modules.
func convKey(k, layers int) string {
	if k == 0 {
		return "model.0."
	}
	if k == layers-1 {
		return "model." + strconv.Itoa(3*layers-4) + "."
	}
	return "model." + strconv.Itoa(3*k-1) + "."
}

func bnKey(k int) string { return "model." + strconv.Itoa(3*k) + "." }

// Params lists the trainable parameters (weights and biases) in state-dict
// order, for the optimizer.
func (m *DnCNN) Params() []Param {
	var ps []Param
	m.visit(func(name string, t *tb.Tensor, trainable bool) {
		if trainable {
			ps = append(ps, Param{name, t})
		}
	})
	return ps
}

// Tensors lists the trainable parameter tensors in state-dict order.
func (m *DnCNN) Tensors() []*tb.Tensor {
	var ts []*tb.Tensor
	for _, p := range m.Params() {
		ts = append(ts, p.Tensor)
	}
	return ts
}

// NumParams is the number of trainable scalars.
func (m *DnCNN) NumParams() int64 {
	var n int64
	for _, p := range m.Params() {
		n += p.Tensor.Numel()
	}
	return n
}

// visit calls f on every state-dict entry in PyTorch's order (module by
// module; a batch norm's parameters before its buffers).
func (m *DnCNN) visit(f func(name string, t *tb.Tensor, trainable bool)) {
	L := m.Config.Layers
	for k, c := range m.Convs {
		f(convKey(k, L)+"weight", c.Weight, true)
		f(convKey(k, L)+"bias", c.Bias, true)
		if k >= 1 && k <= L-2 {
			m.BNs[k-1].visit(bnKey(k), f)
		}
	}
}

// Options are the dtype and device of the parameters.
func (m *DnCNN) Options() tb.Options { return m.Convs[0].Weight.Options() }

// Close frees every tensor of the network.
func (m *DnCNN) Close() {
	m.visit(func(_ string, t *tb.Tensor, _ bool) { t.Close() })
}
