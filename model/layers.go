package model

import (
	"strconv"

	tb "github.com/ludvae/ludvae/torchbind"
)

// Conv2d is a 2-D convolution with bias, 'same' padding for odd kernels.
type Conv2d struct {
	Weight, Bias *tb.Tensor
	pad          int64
	name         string // its path in the network ("enc_1.net.0"), for the TorchScript export
}

// newConv builds a convolution at p, drawing its weight and then its bias.
func newConv(p path, in, out, k int) *Conv2d {
	c := &Conv2d{pad: int64(k / 2), name: p.prefix}
	c.Weight, c.Bias = p.init.conv(in, out, k)
	p.param("weight", &c.Weight)
	p.param("bias", &c.Bias)
	return c
}

// Forward convolves x.
func (c *Conv2d) Forward(x *tb.Tensor) *tb.Tensor {
	return tb.Conv2d(x, c.Weight, c.Bias, tb.Conv2dOptions{Padding: [2]int64{c.pad, c.pad}})
}

// ConvBlock is conv3×3, ReLU, conv3×3, ReLU, conv3×3, ReLU, conv3×3 at full
// resolution; the convolutions are the authors' net.0, net.2, net.4, net.6
// (the odd indices of their nn.Sequential are the ReLUs).
type ConvBlock struct {
	Net [4]*Conv2d
}

func newConvBlock(p path, f int) *ConvBlock {
	b := &ConvBlock{}
	net := p.sub("net")
	for i := range b.Net {
		b.Net[i] = newConv(net.sub(strconv.Itoa(2*i)), f, f, 3)
	}
	return b
}

// Forward applies the block.
func (b *ConvBlock) Forward(x *tb.Tensor) *tb.Tensor { return block(tensorMachine{}, b, x) }

// GauBlock maps features to a diagonal Gaussian: mean M and log-sigma V
// (log of the standard deviation), both 1×1 convolutions.
type GauBlock struct {
	M, V *Conv2d
}

func newGauBlock(p path, f int) *GauBlock {
	return &GauBlock{M: newConv(p.sub("m"), f, f, 1), V: newConv(p.sub("v"), f, f, 1)}
}

// Forward returns the mean and the log-sigma.
func (g *GauBlock) Forward(x *tb.Tensor) (mean, logSigma *tb.Tensor) {
	return g.M.Forward(x), g.V.Forward(x)
}

// ProjBlock fuses two feature maps: a 1×1 convolution 2F→F of their
// channel concatenation (a first).
type ProjBlock struct {
	Proj *Conv2d
}

func newProjBlock(p path, f int) *ProjBlock {
	return &ProjBlock{Proj: newConv(p.sub("proj"), 2*f, f, 1)}
}

// Forward returns proj(cat(a, b)).
func (p *ProjBlock) Forward(a, b *tb.Tensor) *tb.Tensor { return proj(tensorMachine{}, p, a, b) }
