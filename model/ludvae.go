package model

import tb "github.com/ludvae/ludvae/torchbind"

// LUDVAE is the network. Slices are indexed by level−1; level L (the top)
// has no prior block and no ProjC/ProjN, so GauP, ProjC and ProjN have L−1
// entries.
type LUDVAE struct {
	Config  Config
	InConv  *Conv2d      // inconv: image branch, on h(input)
	InConvN *Conv2d      // inconv_n: degradation branch, on the raw input
	Enc     []*ConvBlock // enc_l
	EncN    []*ConvBlock // enc_n_l
	GauQ    []*GauBlock  // Gauconv_q_l: posterior
	GauP    []*GauBlock  // Gauconv_p_l: prior, l < L
	Dec     []*ConvBlock // dec_l
	Proj    []*ProjBlock // proj_l: decoder features with z
	ProjC   []*ProjBlock // proj_c_l: decoder features with image features, l < L
	ProjN   []*ProjBlock // proj_n_l: with degradation features, l < L
	OutConv *Conv2d      // outconv
	params  registry     // every parameter, named, in state-dict order
	// blocked runs the training pass's activations in oneDNN's blocked
	// layout (layout.Blocked; the weights stay NCHW).
	blocked bool
}

// New builds a network with PyTorch's default initialization drawn from
// seed: the values torch.manual_seed(seed) gives the reference network
// (init.go).
func New(cfg Config, o tb.Options, seed uint64) (m *LUDVAE, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	err = tb.Try(func() {
		gen := tb.NewGenerator(seed, tb.CPU)
		defer gen.Close()
		m = build(cfg, &initializer{gen: gen, opt: o})
	})
	return m, err
}

// build makes the modules in the authors' attribute order, which is their
// state-dict order and the order the parameters are drawn in (so a seed
// gives the weights torch's would).
func build(cfg Config, in *initializer) *LUDVAE {
	f, L := cfg.Filters, cfg.Levels
	m := &LUDVAE{Config: cfg}
	root := path{reg: &m.params, init: in}
	m.InConv = newConv(root.sub("inconv"), cfg.Channels, f, 1)
	m.InConvN = newConv(root.sub("inconv_n"), cfg.Channels, f, 1)
	m.Enc = make([]*ConvBlock, L)
	m.EncN = make([]*ConvBlock, L)
	m.GauQ = make([]*GauBlock, L)
	m.GauP = make([]*GauBlock, L-1)
	m.Dec = make([]*ConvBlock, L)
	m.Proj = make([]*ProjBlock, L)
	m.ProjC = make([]*ProjBlock, L-1)
	m.ProjN = make([]*ProjBlock, L-1)
	for l := 1; l <= L; l++ {
		m.Enc[l-1] = newConvBlock(root.at("enc", l), f)
	}
	for l := 1; l <= L; l++ {
		m.EncN[l-1] = newConvBlock(root.at("enc_n", l), f)
	}
	for l := L; l >= 1; l-- {
		m.GauQ[l-1] = newGauBlock(root.at("Gauconv_q", l), f)
	}
	for l := L - 1; l >= 1; l-- {
		m.GauP[l-1] = newGauBlock(root.at("Gauconv_p", l), f)
	}
	for l := L; l >= 1; l-- {
		m.Dec[l-1] = newConvBlock(root.at("dec", l), f)
	}
	m.Proj[L-1] = newProjBlock(root.at("proj", L), f)
	for l := L - 1; l >= 1; l-- {
		m.Proj[l-1] = newProjBlock(root.at("proj", l), f)
		m.ProjC[l-1] = newProjBlock(root.at("proj_c", l), f)
		m.ProjN[l-1] = newProjBlock(root.at("proj_n", l), f)
	}
	m.OutConv = newConv(root.sub("outconv"), f, cfg.Channels, 1)
	return m
}

// Param is a named parameter; the name is the authors' state-dict key.
type Param struct {
	Name   string
	Tensor *tb.Tensor
}

// Params lists the parameters in the authors' state-dict order.
func (m *LUDVAE) Params() []Param {
	ps := make([]Param, len(m.params.entries))
	for i, e := range m.params.entries {
		ps[i] = Param{Name: e.name, Tensor: *e.slot}
	}
	return ps
}

// Tensors lists the parameter tensors in state-dict order (for the optimizer).
func (m *LUDVAE) Tensors() []*tb.Tensor {
	ts := make([]*tb.Tensor, len(m.params.entries))
	for i, e := range m.params.entries {
		ts[i] = *e.slot
	}
	return ts
}

// NumParams is the number of scalar parameters.
func (m *LUDVAE) NumParams() int64 {
	var n int64
	for _, t := range m.Tensors() {
		n += t.Numel()
	}
	return n
}

// Options are the dtype and device of the parameters.
func (m *LUDVAE) Options() tb.Options {
	w := m.InConv.Weight
	return tb.Options{DType: w.DType(), Device: w.Device()}
}

// Close frees the parameters.
func (m *LUDVAE) Close() {
	for _, t := range m.Tensors() {
		t.Close()
	}
}

// ToChannelsLast stores the convolution weights in channels-last (NHWC)
// memory order, which oneDNN's CPU convolutions and cuDNN's tensor-core
// kernels run faster on for large images (synthesis: −17 % time per 256²
// image on the CPU). It replaces the weight tensors, so call it before an
// optimizer is built over the parameters; values and names are unchanged.
func (m *LUDVAE) ToChannelsLast() error {
	return tb.Try(func() {
		for _, e := range m.params.entries {
			old := *e.slot
			if old.Dim() != 4 { // the biases
				continue
			}
			var w *tb.Tensor
			tb.NoGrad(func() { w = old.ChannelsLast().Persist() })
			if old.RequiresGrad() {
				w.SetRequiresGrad(true)
			}
			*e.slot = w
			old.Close()
		}
	})
}
