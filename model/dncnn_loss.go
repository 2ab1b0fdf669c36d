package model

import (
	"fmt"

	tb "github.com/ludvae/ludvae/torchbind"
)

// DnCNNLoss is KAIR's pixel loss (train options' G_lossfn_type).
type DnCNNLoss int

const (
	// DnCNNL1 is nn.L1Loss, mean |E − H|: "l1", what KAIR's
	// train_dncnn.json and the LUD-VAE authors' SIDD DnCNN options use.
	DnCNNL1 DnCNNLoss = iota
	// DnCNNL2 is nn.MSELoss, mean (E − H)²: "l2", the loss of the DnCNN
	// paper.
	DnCNNL2
)

// String is the loss's name in KAIR's options.
func (l DnCNNLoss) String() string {
	if l == DnCNNL2 {
		return "l2"
	}
	return "l1"
}

// ParseDnCNNLoss reads "l1" or "l2".
func ParseDnCNNLoss(s string) (DnCNNLoss, error) {
	switch s {
	case "l1":
		return DnCNNL1, nil
	case "l2":
		return DnCNNL2, nil
	}
	return 0, fmt.Errorf("DnCNN loss %q: want l1 or l2", s)
}

// Loss runs the training forward pass (batch statistics, running ones
// updated) on noisy [N,C,H,W] and returns the denoised output and its loss
// against clean (0-dim), ready for Backward.
func (m *DnCNN) Loss(noisy, clean *tb.Tensor, kind DnCNNLoss) (out, loss *tb.Tensor, err error) {
	err = tb.Try(func() {
		out = m.Forward(noisy, true)
		if kind == DnCNNL2 {
			loss = tb.MSELoss(out, clean, tb.ReduceMean)
			return
		}
		d := out.Sub(clean)
		defer d.Close()
		a := d.Abs()
		defer a.Close()
		loss = a.Mean()
	})
	return out, loss, err
}

// Denoise runs the network in evaluation mode (running statistics, no
// gradient) on noisy [N,C,H,W].
func (m *DnCNN) Denoise(noisy *tb.Tensor) (out *tb.Tensor, err error) {
	err = tb.Try(func() { tb.NoGrad(func() { out = m.Forward(noisy, false) }) })
	return out, err
}
