package model

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"

	tb "github.com/ludvae/ludvae/torchbind"
)

// StateDict returns every parameter and buffer keyed as KAIR's DnCNN
// names them, in PyTorch's order; the tensors are the model's own.
func (m *DnCNN) StateDict() *tb.Dict {
	d := tb.NewDict()
	d.Ordered = true
	m.visit(func(name string, t *tb.Tensor, _ bool) { d.Set(name, t) })
	return d
}

// SaveStateDict writes the state dict, which KAIR's DnCNN loads with
// load_state_dict(strict=True).
func (m *DnCNN) SaveStateDict(path string) error { return tb.Save(path, m.StateDict()) }

// LoadStateDict copies sd into the model, strictly: a missing or an
// unexpected key, or a wrong shape, is an error naming the key. Floating
// values are converted to the model's dtype and device.
func (m *DnCNN) LoadStateDict(sd *tb.Dict) error {
	if err := m.checkStateDict(sd); err != nil {
		return err
	}
	return tb.Try(func() {
		tb.NoGrad(func() {
			m.visit(func(name string, t *tb.Tensor, _ bool) {
				v, _ := sd.Get(name)
				src := v.(*tb.Tensor)
				c := src.To(t.DType(), t.Device())
				t.CopyFrom(c)
				c.Close()
			})
		})
	})
}

// checkStateDict compares sd's keys and shapes with the model's.
func (m *DnCNN) checkStateDict(sd *tb.Dict) error {
	want := map[string][]int64{}
	m.visit(func(name string, t *tb.Tensor, _ bool) { want[name] = t.Shape() })
	var unexpected []string
	for i, k := range sd.Keys {
		name, _ := k.(string)
		shape, known := want[name]
		if !known {
			unexpected = append(unexpected, fmt.Sprint(k))
			continue
		}
		t, ok := sd.Values[i].(*tb.Tensor)
		if !ok {
			return fmt.Errorf("state dict key %q holds %T, expected a tensor", name, sd.Values[i])
		}
		if fmt.Sprint(t.Shape()) != fmt.Sprint(shape) {
			return fmt.Errorf("state dict key %q has shape %v, the %v DnCNN expects %v", name, t.Shape(), m.Config, shape)
		}
		delete(want, name)
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		return fmt.Errorf("state dict has unexpected key(s) %q for a %v DnCNN", unexpected, m.Config)
	}
	if len(want) > 0 {
		var missing []string
		for k := range want {
			missing = append(missing, k)
		}
		sort.Strings(missing)
		return fmt.Errorf("state dict is missing key(s) %q for a %v DnCNN", missing, m.Config)
	}
	return nil
}

var dncnnWeightKey = regexp.MustCompile(`^model\.(\d+)\.weight$`)

// InferDnCNNConfig reads the network size from a KAIR DnCNN state dict:
// the convolutions are its 4-D "model.N.weight" entries.
func InferDnCNNConfig(sd *tb.Dict) (DnCNNConfig, error) {
	var convs []int
	shapes := map[int][]int64{}
	for i, k := range sd.Keys {
		name, _ := k.(string)
		g := dncnnWeightKey.FindStringSubmatch(name)
		t, ok := sd.Values[i].(*tb.Tensor)
		if g == nil || !ok || t.Dim() != 4 {
			continue
		}
		n, _ := strconv.Atoi(g[1])
		convs = append(convs, n)
		shapes[n] = t.Shape()
	}
	if len(convs) < 2 {
		return DnCNNConfig{}, fmt.Errorf("state dict holds %d convolution weights model.N.weight, not a KAIR DnCNN", len(convs))
	}
	sort.Ints(convs)
	first := shapes[convs[0]]
	cfg := DnCNNConfig{Channels: int(first[1]), Features: int(first[0]), Layers: len(convs)}
	return cfg, cfg.Validate()
}

// DnCNNFromStateDict builds a DnCNN of the size sd implies and loads it,
// with dtype and device o.
func DnCNNFromStateDict(sd *tb.Dict, o tb.Options) (*DnCNN, error) {
	return buildLoaded(unwrapStateDict(sd, "model.0.weight"), InferDnCNNConfig,
		func(c DnCNNConfig) (*DnCNN, error) { return NewDnCNN(c, o, 0) })
}

// LoadDnCNN reads a DnCNN state dict as KAIR saves it (plain, or with
// DataParallel's "module." prefix), or a container holding it under
// "model", "state_dict" or "params".
func LoadDnCNN(path string, o tb.Options) (*DnCNN, error) {
	return loadFile(path, func(d *tb.Dict) (*DnCNN, error) { return DnCNNFromStateDict(d, o) })
}
