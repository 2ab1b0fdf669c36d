package model

import (
	"strconv"

	tb "github.com/ludvae/ludvae/torchbind"
)

// The network's parameter names and their order come from building it, as
// in PyTorch's module tree or tch-rs' VarStore: a module is built at a path
// ("enc_1", then "enc_1.net.0") and registers its parameters there, so the
// state-dict keys are written down once, where the modules are made, and
// are formatted once per network rather than at every use.

// registry holds a network's parameters in the order they were registered
// (the authors' state-dict order). Each entry points at the field holding
// the tensor, so a module that replaces its tensor (ToChannelsLast) is seen
// through the registry.
type registry struct {
	entries []entry
}

type entry struct {
	name   string
	slot   **tb.Tensor
	buffer bool // a buffer (batch norm's running statistics), not trained
}

// path is where a module is being built: the registry and the dotted prefix
// its parameters get, and the drawer that initializes them.
type path struct {
	reg    *registry
	prefix string
	init   drawer
}

// drawer initializes a network's modules as its authors' code does:
// LUD-VAE's with PyTorch's defaults (initializer), DnCNN's as KAIR's
// init_weights (kairInit). Both draw in the order the modules are built.
type drawer interface {
	// conv draws a k×k convolution's weight [out, in, k, k] and bias [out].
	conv(in, out, k int) (w, b *tb.Tensor)
	// batchNorm draws a batch norm's affine weight and bias [c].
	batchNorm(c int) (w, b *tb.Tensor)
	// options are the dtype and device of the parameters.
	options() tb.Options
}

// sub is the path of a sub-module called name.
func (p path) sub(name string) path {
	if p.prefix != "" {
		name = p.prefix + "." + name
	}
	return path{reg: p.reg, prefix: name, init: p.init}
}

// at is the path of the level-l instance of a module family: "enc" at
// level 2 is "enc_2".
func (p path) at(family string, level int) path {
	return p.sub(family + "_" + strconv.Itoa(level))
}

// param registers the tensor in *slot as the parameter called name.
func (p path) param(name string, slot **tb.Tensor) {
	p.reg.entries = append(p.reg.entries, entry{name: p.sub(name).prefix, slot: slot})
}

// buffer registers the tensor in *slot as the buffer called name.
func (p path) buffer(name string, slot **tb.Tensor) {
	p.reg.entries = append(p.reg.entries, entry{name: p.sub(name).prefix, slot: slot, buffer: true})
}

// sequential is an nn.Sequential being built at a path: its modules are
// named by their index, ReLUs (which hold nothing) counting too.
type sequential struct {
	p path
	n int
}

// next is the path of the next module.
func (s *sequential) next() path {
	s.n++
	return s.p.sub(strconv.Itoa(s.n - 1))
}

// visit calls f on every entry in registration order: the state-dict
// order, a module's parameters before its buffers.
func (r *registry) visit(f func(name string, t *tb.Tensor, trainable bool)) {
	for _, e := range r.entries {
		f(e.name, *e.slot, !e.buffer)
	}
}
