package model

import tb "github.com/ludvae/ludvae/torchbind"

// Conv2d is a 2-D convolution with bias, 'same' padding for odd kernels.
type Conv2d struct {
	Weight, Bias *tb.Tensor
	pad          int64
}

func newConv(in, out, k int, init *initializer) *Conv2d {
	w, b := init.conv(in, out, k)
	return &Conv2d{Weight: w, Bias: b, pad: int64(k / 2)}
}

// Forward convolves x.
func (c *Conv2d) Forward(x *tb.Tensor) *tb.Tensor {
	return tb.Conv2d(x, c.Weight, c.Bias, tb.Conv2dOptions{Padding: [2]int64{c.pad, c.pad}})
}

func (c *Conv2d) params(prefix string, add func(string, *tb.Tensor)) {
	add(prefix+"weight", c.Weight)
	add(prefix+"bias", c.Bias)
}

// ConvBlock is conv3×3, ReLU, conv3×3, ReLU, conv3×3, ReLU, conv3×3 at full
// resolution; the convolutions are the authors' net.0, net.2, net.4, net.6.
type ConvBlock struct {
	Net [4]*Conv2d
}

func newConvBlock(f int, init *initializer) *ConvBlock {
	b := &ConvBlock{}
	for i := range b.Net {
		b.Net[i] = newConv(f, f, 3, init)
	}
	return b
}

// Forward applies the block.
func (b *ConvBlock) Forward(x *tb.Tensor) *tb.Tensor {
	return b.after(b.Net[0].Forward(x), len(b.Net))
}

// after continues the block from y, the output of its first convolution,
// through the ReLU before convolution end (len(Net): the whole block).
// Intermediate handles are closed as soon as they are used (autograd keeps
// what it needs), so memory follows the computation rather than the
// enclosing scope.
func (b *ConvBlock) after(y *tb.Tensor, end int) *tb.Tensor {
	for i := 1; i < end; i++ {
		y.ReluInPlace()
		z := b.Net[i].Forward(y)
		y.Close()
		y = z
	}
	if end < len(b.Net) {
		y.ReluInPlace()
	}
	return y
}

func (b *ConvBlock) params(prefix string, add func(string, *tb.Tensor)) {
	for i, c := range b.Net {
		c.params(prefix+"net."+itoa(2*i)+".", add)
	}
}

// GauBlock maps features to a diagonal Gaussian: mean M and log-sigma V
// (log of the standard deviation), both 1×1 convolutions.
type GauBlock struct {
	M, V *Conv2d
}

func newGauBlock(f int, init *initializer) *GauBlock {
	return &GauBlock{M: newConv(f, f, 1, init), V: newConv(f, f, 1, init)}
}

// Forward returns the mean and the log-sigma.
func (g *GauBlock) Forward(x *tb.Tensor) (mean, logSigma *tb.Tensor) {
	return g.M.Forward(x), g.V.Forward(x)
}

func (g *GauBlock) params(prefix string, add func(string, *tb.Tensor)) {
	g.M.params(prefix+"m.", add)
	g.V.params(prefix+"v.", add)
}

// ProjBlock fuses two feature maps: a 1×1 convolution 2F→F of their
// channel concatenation (a first).
type ProjBlock struct {
	Proj *Conv2d
}

func newProjBlock(f int, init *initializer) *ProjBlock {
	return &ProjBlock{Proj: newConv(2*f, f, 1, init)}
}

// Forward returns proj(cat(a, b)).
func (p *ProjBlock) Forward(a, b *tb.Tensor) *tb.Tensor {
	ab := tb.Cat([]*tb.Tensor{a, b}, 1)
	defer ab.Close()
	return p.Proj.Forward(ab)
}

func (p *ProjBlock) params(prefix string, add func(string, *tb.Tensor)) {
	p.Proj.params(prefix+"proj.", add)
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
