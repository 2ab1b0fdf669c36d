package train

import (
	"fmt"
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

// strongNorm maps far from the identity, so that getting the order or the
// rows wrong shows in every element.
var strongNorm = Normalization{CleanMean: [3]float64{0.3, 0.5, 0.7}, CleanStd: [3]float64{0.3, 0.2, 0.1},
	NoisyMean: [3]float64{0.6, 0.4, 0.5}, NoisyStd: [3]float64{0.1, 0.2, 0.3}}

// TestToCleanRows: the marked rows of each tensor get ToClean's map and
// clamp (against the float64 image arithmetic), the others stay bit for bit.
func TestToCleanRows(t *testing.T) {
	n := strongNorm
	rows := []bool{true, false, true}
	tb.WithScope(func(*tb.Scope) {
		g := tb.NewGenerator(6, tb.CPU)
		defer g.Close()
		a := tb.Rand([]int64{3, 3, 4, 5}, tb.Options{}, g).MulScalar(1.4).AddScalar(-0.2) // some values outside [0, 1]
		b := tb.Rand([]int64{3, 3, 4, 5}, tb.Options{}, g)
		out := n.ToCleanRows(rows, a, b)
		for k, x := range []*tb.Tensor{a, b} {
			sameRows(t, fmt.Sprintf("tensor %d", k), out[k], x.Float32s(), rows, &n)
		}
	})
}

// sameRows compares got with the rows of in, mapped with ToClean where rows
// says, to 1e-6 (float32 against float64), and bit for bit elsewhere.
func sameRows(t *testing.T, what string, got *tb.Tensor, in []float32, rows []bool, n *Normalization) {
	t.Helper()
	g := got.Float32s()
	per := len(in) / len(rows)
	h, w := int(got.Size(2)), int(got.Size(3))
	for r, mapped := range rows {
		want := &images.Image{W: w, H: h, Pix: slices.Clone(in[r*per : (r+1)*per])}
		if mapped {
			n.ToClean(want)
		}
		for i, v := range g[r*per : (r+1)*per] {
			if d := math.Abs(float64(v - want.Pix[i])); d > 1e-6 || (!mapped && d != 0) {
				t.Fatalf("%s, row %d (mapped %v), element %d: %g, want %g", what, r, mapped, i, v, want.Pix[i])
			}
		}
	}
}

// TestStepInputs: a step with colour statistics feeds the model
// clamp(map(y)) and clamp(map(y + σy·ε)) for the degraded crops, as the
// authors' dataset makes them, and the clean crops and their h as they are.
func TestStepInputs(t *testing.T) {
	c := tinyConfig(t)
	d, err := LoadData(t.Context(), &c, io.Discard)
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
	tb.WithScope(func(*tb.Scope) {
		var x0, h0, x, h *tb.Tensor
		if err := tb.Do(func() (err error) { x0, h0, err = upload(&c, tb.CPU, b).inputs(m); return err }); err != nil { // no statistics: as read, h = x + σε
			t.Fatal(err)
		}
		if !slices.Equal(x0.Float32s(), b.Pix) {
			t.Fatal("without statistics x is not the batch as read")
		}
		b.Norm = &strongNorm
		if err := tb.Do(func() (err error) { x, h, err = upload(&c, tb.CPU, b).inputs(m); return err }); err != nil {
			t.Fatal(err)
		}
		sameRows(t, "x", x, b.Pix, b.Degraded, b.Norm)
		sameRows(t, "h", h, h0.Float32s(), b.Degraded, b.Norm) // the map after the noise
	})
}
