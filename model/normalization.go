package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/pathguard"
	tb "github.com/ludvae/ludvae/torchbind"
)

// Normalization maps the degraded domain's per-channel mean and standard
// deviation onto the clean domain's (AIM19): y' = (y−μy)/σy·σx + μx,
// clamped to [0,1]; synthetic outputs are mapped back with FromClean.
type Normalization struct {
	CleanMean, CleanStd, NoisyMean, NoisyStd [3]float64
}

// ToClean maps a degraded image to the clean domain's statistics in place.
func (n *Normalization) ToClean(m *images.Image) {
	n.apply(m, n.NoisyMean, n.NoisyStd, n.CleanMean, n.CleanStd)
}

// FromClean maps a synthetic degraded image back to the degraded domain's
// statistics in place.
func (n *Normalization) FromClean(m *images.Image) {
	n.apply(m, n.CleanMean, n.CleanStd, n.NoisyMean, n.NoisyStd)
}

func (n *Normalization) apply(m *images.Image, fromMean, fromStd, toMean, toStd [3]float64) {
	a, b := affine(fromMean, fromStd, toMean, toStd)
	for c := range 3 {
		p := m.Plane(c)
		for i, v := range p {
			p[i] = float32(min(max(float64(v)*a[c]+b[c], 0), 1))
		}
	}
}

// affine returns the per-channel v·a + b that maps values of the statistics
// (fromMean, fromStd) onto (toMean, toStd).
func affine(fromMean, fromStd, toMean, toStd [3]float64) (a, b [3]float64) {
	for c := range 3 {
		a[c] = toStd[c] / fromStd[c]
		b[c] = toMean[c] - fromMean[c]*a[c]
	}
	return a, b
}

// ToCleanMap is ToClean as a map, without the clamp.
func (n *Normalization) ToCleanMap() *ColourMap {
	a, b := affine(n.NoisyMean, n.NoisyStd, n.CleanMean, n.CleanStd)
	return &ColourMap{Scale: a, Shift: b}
}

// ToCleanRows maps the rows marked in rows of each [N, 3, H, W] tensor in ts
// to the clean statistics, clamped, and leaves the other rows as they are:
// in training the degraded crops y and their h(y) = y + σy·ε, mapped after
// the noise, as the authors' dataset does. The per-row map goes to the
// device in one copy, shared by all of ts (which must share device and
// dtype).
func (n *Normalization) ToCleanRows(rows []bool, ts ...*tb.Tensor) []*tb.Tensor {
	p := tb.FromSlice(n.RowMap(rows), 3, int64(len(rows)), 3, 1, 1).To(ts[0].DType(), ts[0].Device())
	return ApplyRowMap(p, ts...)
}

// RowMap is ToCleanRows's map of a batch as values, for a tensor of shape
// [3, N, 3, 1, 1]: each row's per-channel scale, shift, and 1 where the
// row is mapped (0 elsewhere, with scale 1 and shift 0).
func (n *Normalization) RowMap(rows []bool) []float64 {
	cm := n.ToCleanMap()
	k := len(rows)
	v := make([]float64, 3*k*3)
	for i, r := range rows {
		for c := range 3 {
			scale, shift, on := 1.0, 0.0, 0.0
			if r {
				scale, shift, on = cm.Scale[c], cm.Shift[c], 1
			}
			v[i*3+c], v[k*3+i*3+c], v[2*k*3+i*3+c] = scale, shift, on
		}
	}
	return v
}

// ApplyRowMap maps the rows of each of ts by p (RowMap's values on the
// tensors' device) and clamps the mapped rows to [0, 1].
func ApplyRowMap(p *tb.Tensor, ts ...*tb.Tensor) []*tb.Tensor {
	scale, shift, mask := p.Narrow(0, 0, 1).Squeeze(0), p.Narrow(0, 1, 1).Squeeze(0), p.Narrow(0, 2, 1).Squeeze(0).GtScalar(0.5)
	out := make([]*tb.Tensor, len(ts))
	for i, t := range ts {
		out[i] = tb.Where(mask, t.Mul(scale).Add(shift).Clamp(0, 1), t)
	}
	return out
}

// FromCleanMap is FromClean as a map for the exported generator, without
// the clamp (the generator's output is unclamped).
func (n *Normalization) FromCleanMap() *ColourMap {
	a, b := affine(n.CleanMean, n.CleanStd, n.NoisyMean, n.NoisyStd)
	return &ColourMap{Scale: a, Shift: b}
}

// AIM19Normalization is the statistics the authors hard-code for their
// AIM19 model (LUD_VAE_aim19/main_test.py and main_translate.py, given there
// on the 0–255 scale): what their released AIM19 state dict expects.
var AIM19Normalization = from255([4][3]float64{
	{114.69150172, 111.67491841, 103.26490806}, // clean mean
	{70.6325031, 67.0257846, 72.95698077},      // clean std
	{120.96351636, 115.84200238, 104.9237979},  // noisy mean
	{61.84091623, 59.79885696, 65.42669225},    // noisy std
})

// from255 makes a Normalization from statistics on the 0–255 scale, in the
// order clean mean, clean std, noisy mean, noisy std.
func from255(s [4][3]float64) Normalization {
	var n Normalization
	for i, dst := range []*[3]float64{&n.CleanMean, &n.CleanStd, &n.NoisyMean, &n.NoisyStd} {
		for c := range 3 {
			dst[c] = s[i][c] / 255
		}
	}
	return n
}

// normalizationFile is a normalization's JSON form, on the 0–255 scale as
// the authors write their statistics.
type normalizationFile struct {
	CleanMean []float64 `json:"clean_mean"`
	CleanStd  []float64 `json:"clean_std"`
	NoisyMean []float64 `json:"noisy_mean"`
	NoisyStd  []float64 `json:"noisy_std"`
}

// ParseNormalization reads a --normalization value other than the
// checkpoint's own: "none" (nil), "aim19" (AIM19Normalization), or a JSON
// file {"clean_mean": [r, g, b], "clean_std": [...], "noisy_mean": [...],
// "noisy_std": [...]} on the 0–255 scale.
func ParseNormalization(spec string) (*Normalization, error) {
	switch spec {
	case "none":
		return nil, nil
	case "aim19":
		n := AIM19Normalization
		return &n, nil
	}
	b, err := pathguard.ReadFile(spec)
	if err != nil {
		return nil, fmt.Errorf("--normalization %s: expected checkpoint, none, aim19 or a JSON file: %w", spec, err)
	}
	var f normalizationFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("--normalization %s: %w", spec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("--normalization %s: data after the JSON object", spec)
	}
	var s [4][3]float64
	for i, v := range []struct {
		name     string
		values   []float64
		positive bool
	}{{"clean_mean", f.CleanMean, false}, {"clean_std", f.CleanStd, true},
		{"noisy_mean", f.NoisyMean, false}, {"noisy_std", f.NoisyStd, true}} {
		if len(v.values) != 3 {
			return nil, fmt.Errorf("--normalization %s: %q has %d values, expected three (r, g, b on the 0–255 scale)", spec, v.name, len(v.values))
		}
		for c, x := range v.values {
			if !(x >= 0 && x <= 255) || (v.positive && x == 0) {
				return nil, fmt.Errorf("--normalization %s: %s[%d] = %g: expected a value in %s on the 0–255 scale",
					spec, v.name, c, x, map[bool]string{false: "[0, 255]", true: "(0, 255]"}[v.positive])
			}
		}
		s[i] = [3]float64(v.values)
	}
	n := from255(s)
	return &n, nil
}
