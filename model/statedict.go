package model

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	tb "github.com/ludvae/ludvae/torchbind"
)

// StateDict returns the parameters as an ordered dict keyed by the authors'
// names; the tensors are the model's own (not copies).
func (m *LUDVAE) StateDict() *tb.Dict {
	d := tb.NewDict()
	d.Ordered = true
	for _, p := range m.Params() {
		d.Set(p.Name, p.Tensor)
	}
	return d
}

// LoadStateDict copies a state dict into the model, strictly: a missing key,
// an unexpected key or a wrong shape is an error naming the key. Values are
// converted to the model's dtype and device.
func (m *LUDVAE) LoadStateDict(sd *tb.Dict) error {
	want := map[string]*tb.Tensor{}
	for _, p := range m.Params() {
		want[p.Name] = p.Tensor
	}
	var unexpected []string
	for i, k := range sd.Keys {
		name, ok := k.(string)
		if _, known := want[name]; !ok || !known {
			unexpected = append(unexpected, fmt.Sprint(k))
			continue
		}
		if _, ok := sd.Values[i].(*tb.Tensor); !ok {
			return fmt.Errorf("state dict key %q holds %T, expected a tensor", name, sd.Values[i])
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		return fmt.Errorf("state dict has unexpected key(s) %q for a %v network", unexpected, m.Config)
	}
	for _, p := range m.Params() {
		v, ok := sd.Get(p.Name)
		if !ok {
			return fmt.Errorf("state dict is missing key %q for a %v network", p.Name, m.Config)
		}
		src := v.(*tb.Tensor)
		if got, exp := src.Shape(), p.Tensor.Shape(); fmt.Sprint(got) != fmt.Sprint(exp) {
			return fmt.Errorf("state dict key %q has shape %v, the model expects %v", p.Name, got, exp)
		}
	}
	return tb.Try(func() {
		tb.NoGrad(func() {
			for _, p := range m.Params() {
				v, _ := sd.Get(p.Name)
				p.Tensor.CopyFrom(v.(*tb.Tensor))
			}
		})
	})
}

var levelKey = regexp.MustCompile(`^enc_(\d+)\.`)

// InferConfig reads the network size from a state dict's keys and shapes:
// the levels from the enc_l keys, filters and channels from inconv.weight.
func InferConfig(sd *tb.Dict) (Config, error) {
	v, ok := sd.Get("inconv.weight")
	if !ok {
		return Config{}, fmt.Errorf("not a LUD-VAE state dict: no key \"inconv.weight\"")
	}
	w, ok := v.(*tb.Tensor)
	if !ok || w.Dim() != 4 {
		return Config{}, fmt.Errorf("state dict key \"inconv.weight\" is %v, expected a 4-D tensor", v)
	}
	s := w.Shape()
	cfg := Config{Filters: int(s[0]), Channels: int(s[1])}
	for _, k := range sd.Keys {
		if name, ok := k.(string); ok {
			if g := levelKey.FindStringSubmatch(name); g != nil {
				if l, _ := strconv.Atoi(g[1]); l > cfg.Levels {
					cfg.Levels = l
				}
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("state dict: %w", err)
	}
	return cfg, nil
}

// FromStateDict builds a network of the size the state dict implies and
// loads it (strictly) with dtype and device o.
func FromStateDict(sd *tb.Dict, o tb.Options) (*LUDVAE, error) {
	return buildLoaded(sd, InferConfig, func(c Config) (*LUDVAE, error) { return New(c, o, 0) })
}

// Load reads a plain state-dict .pth as the authors' training writes it, or
// a ludvae checkpoint (whose "model" entry is that state dict).
func Load(path string, o tb.Options) (*LUDVAE, error) {
	return loadFile(path, func(d *tb.Dict) (*LUDVAE, error) { return FromStateDict(unwrapStateDict(d, "inconv.weight"), o) })
}

// Which of a ludvae checkpoint's weights a reader takes (train --ema keeps
// an exponential moving average of the weights, "ema", beside the trained
// ones, "model"): WeightsAuto takes the average when the checkpoint holds
// one and the trained weights otherwise.
const (
	WeightsAuto    = "auto"
	WeightsEMA     = "ema"
	WeightsTrained = "trained"
)

// EMAKey is the checkpoint entry of the weight average: a state dict with
// the keys of "model". Readers that do not know it (Load, the authors'
// code, torch.load) take "model" and ignore it.
const EMAKey = "ema"

// CheckWeights refuses a --weights value other than auto, ema or trained,
// naming flag.
func CheckWeights(flag, which string) error {
	switch which {
	case "", WeightsAuto, WeightsEMA, WeightsTrained: // "": auto
		return nil
	}
	return fmt.Errorf("%s %q: expected auto (the weight average when the checkpoint has one), ema or trained", flag, which)
}

// LoadWeights is Load choosing which weights of a checkpoint to take
// (WeightsAuto or "", WeightsEMA, WeightsTrained); it returns the one taken,
// WeightsEMA or WeightsTrained. A plain state dict has only trained
// weights; asking it for WeightsEMA is an error.
func LoadWeights(path string, o tb.Options, which string) (*LUDVAE, string, error) {
	if err := CheckWeights("weights", which); err != nil {
		return nil, "", err
	}
	took := WeightsTrained
	m, err := loadFile(path, func(d *tb.Dict) (*LUDVAE, error) {
		var ema *tb.Dict
		if v, ok := d.Get(EMAKey); ok {
			ema, _ = v.(*tb.Dict)
		}
		switch {
		case which == WeightsEMA && ema == nil:
			return nil, fmt.Errorf("holds no weight average (train it with --ema)")
		case which != WeightsTrained && ema != nil:
			took = WeightsEMA
			return FromStateDict(ema, o)
		}
		return FromStateDict(unwrapStateDict(d, "inconv.weight"), o)
	})
	return m, took, err
}

// buildLoaded builds a network of the size infer reads from sd and loads
// sd into it (the LUD-VAE and the DnCNN alike).
func buildLoaded[C any, M interface {
	LoadStateDict(*tb.Dict) error
	Close()
}](sd *tb.Dict, infer func(*tb.Dict) (C, error), build func(C) (M, error)) (M, error) {
	var none M
	cfg, err := infer(sd)
	if err != nil {
		return none, err
	}
	m, err := build(cfg)
	if err != nil {
		return none, err
	}
	if err := m.LoadStateDict(sd); err != nil {
		m.Close()
		return none, err
	}
	return m, nil
}

// loadFile reads path's dict and makes a network of it with from, naming
// path in its error; the dict's tensors are freed after (from copies them).
func loadFile[M any](path string, from func(*tb.Dict) (M, error)) (M, error) {
	var none M
	d, err := tb.LoadDict(path)
	if err != nil {
		return none, err
	}
	defer tb.CloseAll(d)
	m, err := from(d)
	if err != nil {
		return none, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// unwrapStateDict finds a network's state dict in the containers people
// save it in: a ludvae checkpoint ("model"), {"state_dict": ...},
// {"params": ...} (BasicSR), and keys prefixed "module." by DataParallel,
// which it strips when "module."+first (the network's first key) is there.
func unwrapStateDict(d *tb.Dict, first string) *tb.Dict {
	for _, k := range []string{"model", "state_dict", "params"} {
		if inner, ok := d.Get(k); ok {
			if sd, ok := inner.(*tb.Dict); ok {
				d = sd
				break
			}
		}
	}
	if _, ok := d.Get("module." + first); !ok {
		return d
	}
	out := tb.NewDict()
	out.Ordered = d.Ordered
	for i, k := range d.Keys {
		if name, ok := k.(string); ok {
			k = strings.TrimPrefix(name, "module.")
		}
		out.Set(k, d.Values[i])
	}
	return out
}

// SaveStateDict writes the parameters as a plain state dict that the authors'
// class loads with load_state_dict(strict=True).
func (m *LUDVAE) SaveStateDict(path string) error { return tb.Save(path, m.StateDict()) }
