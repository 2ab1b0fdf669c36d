package model

import (
	"errors"
	"fmt"

	tb "github.com/ludvae/ludvae/torchbind"
)

// Synthesis is a checkpoint's "synthesis" entry: what training tells
// generation about the model it wrote. It is the one home of these
// settings: `ludvae synth`'s defaults, restore's on-the-fly degradations
// and (through DefaultSynthesis, which synth/python's test holds the
// Python dataset's defaults to) the exported generator's dataset.
type Synthesis struct {
	SigmaMin, SigmaMax float64        // σx range of h(x), uniform per image (0–255 scale)
	Temperature        float64        // of the degradation latents (1: as trained)
	Norm               *Normalization // the colour statistics, or nil
	Downscale          int            // the clean domain's ×s downscale in training (1: none)
}

// DefaultSynthesis is the setting of a model that carries none: the
// authors' plain state dicts, which are SIDD models: σx uniform in 30–70
// (the paper's SIDD synthesis range), temperature 1, no downscale. The
// sidd training preset's synthesis range is this one.
var DefaultSynthesis = Synthesis{SigmaMin: 30, SigmaMax: 70, Temperature: 1, Downscale: 1}

// Range is the σx range as [min, max].
func (s Synthesis) Range() [2]float64 { return [2]float64{s.SigmaMin, s.SigmaMax} }

// ErrNotCheckpoint says a file is a state dict but not a ludvae checkpoint
// (the authors' plain state dicts, for example).
var ErrNotCheckpoint = errors.New("not a ludvae checkpoint")

// Dict is the entry as a checkpoint stores it.
func (s Synthesis) Dict() *tb.Dict {
	d := tb.NewDict()
	d.Set("sigma_min", s.SigmaMin)
	d.Set("sigma_max", s.SigmaMax)
	d.Set("temperature", s.Temperature)
	d.Set("normalization", s.Norm.Dict())
	d.Set("downscale", int64(s.Downscale))
	return d
}

// CheckpointSynthesis is the synthesis setting of the model in path: its
// checkpoint's entry (ReadSynthesis), or DefaultSynthesis for a plain
// state dict. Every reader of a model's setting goes through it.
func CheckpointSynthesis(path string) (syn Synthesis, plain bool, err error) {
	syn, err = ReadSynthesis(path)
	if errors.Is(err, ErrNotCheckpoint) {
		return DefaultSynthesis, true, nil
	}
	return syn, false, err
}

// ReadSynthesis reads a checkpoint's "synthesis" entry; a plain state dict
// gives ErrNotCheckpoint.
func ReadSynthesis(path string) (Synthesis, error) {
	d, err := tb.LoadDict(path)
	if err != nil {
		return Synthesis{}, err
	}
	defer tb.CloseAll(d)
	v, _ := d.Get("synthesis")
	sd, ok := v.(*tb.Dict)
	if !ok {
		return Synthesis{}, fmt.Errorf("%s: %w (no \"synthesis\")", path, ErrNotCheckpoint)
	}
	syn := Synthesis{Downscale: 1}
	for _, f := range []struct {
		key string
		to  *float64
	}{{"sigma_min", &syn.SigmaMin}, {"sigma_max", &syn.SigmaMax}, {"temperature", &syn.Temperature}} {
		x, _ := sd.Get(f.key)
		var ok bool
		if *f.to, ok = Number(x); !ok {
			return Synthesis{}, fmt.Errorf("%s: synthesis %q is %T %v, not a number", path, f.key, x, x)
		}
	}
	if x, ok := sd.Get("downscale"); ok {
		s, isInt := x.(int64)
		if !isInt || s < 1 {
			return Synthesis{}, fmt.Errorf("%s: synthesis \"downscale\" is %T %v, not a positive integer", path, x, x)
		}
		syn.Downscale = int(s)
	}
	nv, _ := sd.Get("normalization")
	syn.Norm = NormalizationFromDict(nv)
	return syn, nil
}

// Dict is the normalization as a checkpoint stores it (None for nil).
func (n *Normalization) Dict() any {
	if n == nil {
		return nil
	}
	d := tb.NewDict()
	for _, kv := range n.fields() {
		d.Set(kv.key, []any{kv.v[0], kv.v[1], kv.v[2]})
	}
	return d
}

// NormalizationFromDict reads what Dict wrote; anything but a dict is nil.
func NormalizationFromDict(v any) *Normalization {
	d, ok := v.(*tb.Dict)
	if !ok {
		return nil
	}
	n := &Normalization{}
	for _, kv := range n.fields() {
		l, _ := d.Get(kv.key)
		for i, e := range tb.AsList(l) {
			if i < 3 {
				kv.v[i], _ = Number(e)
			}
		}
	}
	return n
}

// fields names the statistics as checkpoints and JSON files do.
func (n *Normalization) fields() []struct {
	key string
	v   *[3]float64
} {
	return []struct {
		key string
		v   *[3]float64
	}{{"clean_mean", &n.CleanMean}, {"clean_std", &n.CleanStd}, {"noisy_mean", &n.NoisyMean}, {"noisy_std", &n.NoisyStd}}
}

// Number is a pickle int or float as a float64.
func Number(x any) (float64, bool) {
	switch n := x.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	}
	return 0, false
}
