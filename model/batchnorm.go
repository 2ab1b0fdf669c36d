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

// visit calls f on the state-dict entries under prefix, in PyTorch's order.
func (b *BatchNorm2d) visit(prefix string, f func(name string, t *tb.Tensor, trainable bool)) {
	f(prefix+"weight", b.Weight, true)
	f(prefix+"bias", b.Bias, true)
	f(prefix+"running_mean", b.RunningMean, false)
	f(prefix+"running_var", b.RunningVar, false)
	f(prefix+"num_batches_tracked", b.NumBatchesTracked, false)
}
