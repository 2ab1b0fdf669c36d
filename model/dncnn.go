package model

import (
	"fmt"

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
// last conv. buildDnCNN declares them in that order, each at its index of
// the Sequential, so the state-dict keys (model.0.weight, model.2.weight,
// model.3.running_mean, …) are KAIR's and its load_state_dict reads ours;
// dncnnWalk runs them, for every machine.
type DnCNN struct {
	Config DnCNNConfig
	Seq    []seqModule    // the Sequential's modules in order
	Convs  []*Conv2d      // Layers convolutions, first to last
	BNs    []*BatchNorm2d // after Convs[1] … Convs[Layers−2]
	params registry       // parameters and buffers, in state-dict order
}

// seqModule is one module of the Sequential: a convolution, a batch norm,
// or (neither set) a ReLU.
type seqModule struct {
	Conv *Conv2d
	BN   *BatchNorm2d
}

// buildDnCNN declares the network: the modules in KAIR's order, drawn by d
// in that order.
func buildDnCNN(cfg DnCNNConfig, d drawer) *DnCNN {
	m := &DnCNN{Config: cfg}
	seq := &sequential{p: path{reg: &m.params, init: d}.sub("model")}
	conv := func(in, out int) {
		c := newConv(seq.next(), in, out, 3)
		m.Convs = append(m.Convs, c)
		m.Seq = append(m.Seq, seqModule{Conv: c})
	}
	relu := func() {
		seq.next()
		m.Seq = append(m.Seq, seqModule{})
	}
	conv(cfg.Channels, cfg.Features)
	relu()
	for range cfg.Layers - 2 {
		conv(cfg.Features, cfg.Features)
		bn := newBatchNorm(seq.next(), cfg.Features)
		m.BNs = append(m.BNs, bn)
		m.Seq = append(m.Seq, seqModule{BN: bn})
		relu()
	}
	conv(cfg.Features, cfg.Channels)
	return m
}

// dncnnWalk is the forward pass: x − model(x) (KAIR's residual learning:
// the network estimates the noise).
func dncnnWalk[V any](m *DnCNN, mc machine[V], x V) V {
	y, own := x, false
	for _, mod := range m.Seq {
		var z V
		switch {
		case mod.Conv != nil:
			z = mc.conv(mod.Conv, y)
		case mod.BN != nil:
			z = mc.batchNorm(mod.BN, y)
		default:
			y = mc.relu(y)
			continue
		}
		if own {
			mc.release(y)
		}
		y, own = z, true
	}
	defer mc.release(y)
	return mc.sub(x, y)
}

// Forward returns the denoised x − model(x). training selects PyTorch's
// train() mode: batch statistics, with the running ones updated in place;
// otherwise the running statistics are used, as in eval().
func (m *DnCNN) Forward(x *tb.Tensor, training bool) *tb.Tensor {
	return dncnnWalk(m, tensorMachine{training: training}, x)
}

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

// Buffers lists the batch norms' running statistics and batch counts in
// state-dict order: what a forward pass in training mode changes.
func (m *DnCNN) Buffers() []Param {
	var bs []Param
	m.visit(func(name string, t *tb.Tensor, trainable bool) {
		if !trainable {
			bs = append(bs, Param{name, t})
		}
	})
	return bs
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
func (m *DnCNN) visit(f func(name string, t *tb.Tensor, trainable bool)) { m.params.visit(f) }

// Options are the dtype and device of the parameters.
func (m *DnCNN) Options() tb.Options { return m.Convs[0].Weight.Options() }

// Close frees every tensor of the network.
func (m *DnCNN) Close() {
	m.visit(func(_ string, t *tb.Tensor, _ bool) { t.Close() })
}
