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
	name string
	slot **tb.Tensor
}

// path is where a module is being built: the registry and the dotted prefix
// its parameters get, and the initializer that draws them.
type path struct {
	reg    *registry
	prefix string
	init   *initializer
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
