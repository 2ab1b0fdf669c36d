package train

import (
	"fmt"
	"io"
	"math"
	"slices"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// strongNorm maps far from the identity, so that getting the order or the
// rows wrong shows in every element.
var strongNorm = model.Normalization{CleanMean: [3]float64{0.3, 0.5, 0.7}, CleanStd: [3]float64{0.3, 0.2, 0.1},
	NoisyMean: [3]float64{0.6, 0.4, 0.5}, NoisyStd: [3]float64{0.1, 0.2, 0.3}}

// TestToCleanRows: the marked rows of each tensor get ToClean's map and
// clamp (against the float64 image arithmetic), the others stay bit for bit.
func TestToCleanRows(t *testing.T) {
	t.Parallel()
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
func sameRows(t *testing.T, what string, got *tb.Tensor, in []float32, rows []bool, n *model.Normalization) {
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
	t.Parallel()
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
		if err := tb.Do(func() (err error) { x0, h0, err = upload(&c, m.Options(), b).inputs(m); return err }); err != nil { // no statistics: as read, h = x + σε
			t.Fatal(err)
		}
		if !slices.Equal(x0.Float32s(), b.Pix) {
			t.Fatal("without statistics x is not the batch as read")
		}
		b.Norm = &strongNorm
		if err := tb.Do(func() (err error) { x, h, err = upload(&c, m.Options(), b).inputs(m); return err }); err != nil {
			t.Fatal(err)
		}
		sameRows(t, "x", x, b.Pix, b.Degraded, b.Norm)
		sameRows(t, "h", h, h0.Float32s(), b.Degraded, b.Norm) // the map after the noise
	})
}
