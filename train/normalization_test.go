package train

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train/images"
)

func TestParseNormalization(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good.json", `{"clean_mean": [114.69150172, 111.67491841, 103.26490806], "clean_std": [70.6325031, 67.0257846, 72.95698077],
		"noisy_mean": [120.96351636, 115.84200238, 104.9237979], "noisy_std": [61.84091623, 59.79885696, 65.42669225]}`)
	cases := []struct {
		spec string
		want *Normalization
		err  string // a fragment of the error, "" for none
	}{
		{"none", nil, ""},
		{"aim19", &AIM19Normalization, ""},
		{good, &AIM19Normalization, ""}, // the authors' numbers, written as they print them
		{file("missing.json", `{"clean_mean": [1, 2, 3], "clean_std": [1, 2, 3], "noisy_mean": [1, 2, 3]}`), nil, `"noisy_std" has 0 values, expected three`},
		{file("zero.json", `{"clean_mean": [1, 2, 3], "clean_std": [1, 0, 3], "noisy_mean": [1, 2, 3], "noisy_std": [1, 2, 3]}`), nil, "clean_std[1] = 0"},
		{file("scale.json", `{"clean_mean": [1, 2, 300], "clean_std": [1, 2, 3], "noisy_mean": [1, 2, 3], "noisy_std": [1, 2, 3]}`), nil, "0–255 scale"},
		{file("extra.json", `{"clean_mean": [1, 2, 3], "mean": 4}`), nil, `unknown field "mean"`},
		{file("two.json", `{"clean_mean": [1, 2]}`), nil, `"clean_mean" has 2 values`},
		{filepath.Join(dir, "absent.json"), nil, "expected checkpoint, none, aim19 or a JSON file"},
		{file("trailing.json", `{"clean_mean": [1, 2, 3], "clean_std": [1, 2, 3], "noisy_mean": [1, 2, 3], "noisy_std": [1, 2, 3]} {}`), nil, "data after the JSON object"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.spec), func(t *testing.T) {
			n, err := ParseNormalization(c.spec)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "--normalization") {
					t.Fatalf("got %v, want an error naming --normalization with %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (n == nil) != (c.want == nil) || (n != nil && *n != *c.want) {
				t.Fatalf("got %+v, want %+v", n, c.want)
			}
		})
	}
	if AIM19Normalization.NoisyStd[2] != 65.42669225/255 {
		t.Errorf("AIM19 noisy std: %v", AIM19Normalization.NoisyStd)
	}
}

// The exported generator's map is FromClean without the clamp.
func TestFromCleanMapIsFromClean(t *testing.T) {
	n := AIM19Normalization
	m := images.New(7, 5)
	for i := range m.Pix {
		m.Pix[i] = float32(i) / float32(len(m.Pix))
	}
	want := &images.Image{W: m.W, H: m.H, Pix: append([]float32(nil), m.Pix...)}
	n.FromClean(want)
	cm := n.FromCleanMap()
	for c := range 3 {
		for i, v := range m.Plane(c) {
			got := min(max(float64(v)*cm.Scale[c]+cm.Shift[c], 0), 1)
			if d := math.Abs(got - float64(want.Plane(c)[i])); d > 1e-7 {
				t.Fatalf("channel %d, pixel %d: map gives %g, FromClean %g", c, i, got, want.Plane(c)[i])
			}
		}
	}
}

// TestToCleanRows: the marked rows of a batch tensor get ToClean's map and
// clamp (against the float64 image arithmetic), the others stay bit for bit.
func TestToCleanRows(t *testing.T) {
	n := AIM19Normalization
	rows := []bool{true, false, true}
	tb.WithScope(func(*tb.Scope) {
		g := tb.NewGenerator(6, tb.CPU)
		defer g.Close()
		x := tb.Rand([]int64{3, 3, 4, 5}, tb.Options{}, g).MulScalar(1.2) // some values above 1
		got := n.ToCleanRows(x, rows).Float32s()
		in := x.Float32s()
		per := 3 * 4 * 5
		for r, mapped := range rows {
			want := &images.Image{W: 5, H: 4, Pix: slices.Clone(in[r*per : (r+1)*per])}
			if mapped {
				n.ToClean(want)
			}
			for i, v := range got[r*per : (r+1)*per] {
				if d := math.Abs(float64(v - want.Pix[i])); d > 1e-6 || (!mapped && d != 0) {
					t.Fatalf("row %d (mapped %v), element %d: %g, want %g", r, mapped, i, v, want.Pix[i])
				}
			}
		}
	})
}

// TestStepNormalizes: a training step with statistics computes its loss on
// clamp(map(y)) and clamp(map(y + σy·ε)) for the degraded crops, as the
// authors' dataset makes them, and not on the crops as read.
func TestStepNormalizes(t *testing.T) {
	c := tinyConfig(t)
	c.Normalize = "auto"
	d, err := LoadData(&c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b := d.MakeBatch(&c, 1)
	for s := 2; !slices.Contains(b.Degraded, true) || !slices.Contains(b.Degraded, false); s++ {
		b = d.MakeBatch(&c, s)
	}
	m, err := model.New(model.Config{Channels: 3, Filters: c.Filters, Levels: c.Levels}, tb.Options{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// loss is the step's loss computed here; mapped chooses the rule.
	loss := func(mapped bool) float64 {
		var total float64
		tb.WithScope(func(*tb.Scope) {
			n, p := int64(c.Batch), int64(c.Patch)
			x := tb.FromSlice(b.Pix, n, 3, p, p)
			sig := make([]float32, n)
			for i, deg := range b.Degraded {
				sig[i] = float32(map[bool]float64{false: c.SigmaX, true: c.SigmaY}[deg])
			}
			noise := model.Noise{Seed: c.Seed, Stream: uint64(b.Step)}
			h, err := m.Preprocess(x, tb.FromSlice(sig), noise)
			if err != nil {
				t.Fatal(err)
			}
			if mapped {
				x, h = mapRows(x, b.Degraded, d.Norm), mapRows(h, b.Degraded, d.Norm)
			}
			l, err := m.Loss(x, h, b.Degraded, noise)
			if err != nil {
				t.Fatal(err)
			}
			total = l.Total(c.KLWeightAt(b.Step)).Item()
		})
		return total
	}
	want, unmapped := loss(true), loss(false)
	opt := tb.NewAdam(m.Tensors(), tb.AdamConfig{LR: c.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	st, err := step(m, opt, &c, tb.CPU, b)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(st.total-want) > 1e-5*math.Abs(want) { // float32 against the float64 image map
		t.Errorf("step loss %.7g, want %.7g", st.total, want)
	}
	if math.Abs(unmapped-want) < 1e-3*math.Abs(want) {
		t.Errorf("the loss without the map is the same (%g): the check cannot fail", unmapped)
	}
}

// mapRows applies ToClean to the marked rows of a [N, 3, H, W] tensor
// through images, in float64.
func mapRows(x *tb.Tensor, rows []bool, n *Normalization) *tb.Tensor {
	pix := x.Float32s()
	h, w := int(x.Size(2)), int(x.Size(3))
	per := 3 * h * w
	for r, mapped := range rows {
		if mapped {
			n.ToClean(&images.Image{W: w, H: h, Pix: pix[r*per : (r+1)*per]})
		}
	}
	return tb.FromSlice(pix, x.Shape()...)
}
