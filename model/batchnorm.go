package model

import tb "github.com/ludvae/ludvae/torchbind"

// KAIR's batch normalization (models/basicblock.py, conv mode "B"):
// nn.BatchNorm2d(momentum=0.9, eps=1e-4). PyTorch's momentum is the weight
// of the new batch, so the running statistics follow the last batch
// closely: running = 0.1·running + 0.9·batch.
const (
	kairBNMomentum = 0.9
	kairBNEps      = 1e-4
)

// BatchNorm2d is nn.BatchNorm2d with KAIR's momentum and eps: affine
// parameters Weight and Bias, and the buffers PyTorch keeps in the state
// dict (the running mean and the unbiased running variance, and the int64
// count of training batches).
type BatchNorm2d struct {
	Weight, Bias                               *tb.Tensor
	RunningMean, RunningVar, NumBatchesTracked *tb.Tensor
	name                                       string // its path in the network ("model.3")
}

// newBatchNorm builds a batch norm of c channels at p: the affine
// parameters drawn by p's drawer, running mean 0, running variance 1, no
// batches counted (PyTorch's reset_running_stats).
func newBatchNorm(p path, c int) *BatchNorm2d {
	o := p.init.options()
	n := []int64{int64(c)}
	b := &BatchNorm2d{name: p.prefix}
	b.Weight, b.Bias = p.init.batchNorm(c)
	b.RunningMean = tb.Zeros(n, o).Persist()
	b.RunningVar = tb.Ones(n, o).Persist()
	b.NumBatchesTracked = tb.Zeros(nil, tb.Options{DType: tb.Int64, Device: o.Device}).Persist()
	p.param("weight", &b.Weight)
	p.param("bias", &b.Bias)
	p.buffer("running_mean", &b.RunningMean)
	p.buffer("running_var", &b.RunningVar)
	p.buffer("num_batches_tracked", &b.NumBatchesTracked)
	return b
}

// Forward normalizes x per channel. In training it uses the batch's
// statistics and updates the running ones and the batch count in place,
// as PyTorch's train() mode does; otherwise the running statistics.
func (b *BatchNorm2d) Forward(x *tb.Tensor, training bool) *tb.Tensor {
	y := tb.BatchNorm(x, b.Weight, b.Bias, b.RunningMean, b.RunningVar, training, kairBNMomentum, kairBNEps)
	if training {
		// An int64 one: a scalar add would be a double, which torch will
		// not write into the int64 count.
		one := tb.Ones(nil, b.NumBatchesTracked.Options())
		tb.NoGrad(func() { b.NumBatchesTracked.AddInPlace(one) })
		one.Close()
	}
	return y
}
