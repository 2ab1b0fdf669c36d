package model

import (
	"testing"

	tb "github.com/ludvae/ludvae/torchbind"
)

// TestGeneratorsAgree ties the entry points together: N2C is the decoder
// from h(y) with every latent zero (C2N at temperature 0), C2N equals the
// decoder applied to Preprocess's h, and Reconstruct is the training
// forward's output.
func TestGeneratorsAgree(t *testing.T) {
	m, err := New(Config{Channels: 3, Filters: 5, Levels: 2}, tb.Options{DType: tb.Float64}, 5)
	must(t, err)
	defer m.Close()
	tb.WithScope(func(*tb.Scope) {
		mustTry(t, func() {
			g := tb.NewGenerator(8, tb.CPU)
			defer g.Close()
			o := tb.Options{DType: tb.Float64}
			y := tb.Rand([]int64{3, 3, 9, 11}, o, g)
			sigma := tb.FromSlice([]float64{10, 30, 50})
			noise := Noise{Seed: 2, Stream: 7}
			h, err := m.Preprocess(y, sigma, noise)
			must(t, err)
			// h − y is σ/255·ε with ε the counter noise of site "h".
			eps := tb.Normal(y.Shape(), o, noise.key(HSite))
			if d := maxAbsErr(t, h.Sub(y), eps.Mul(sigma.DivScalar(255).Reshape(3, 1, 1, 1))); d > 1e-15 {
				t.Fatalf("preprocess: h − y differs from σ/255·ε by %g", d)
			}
			n2c, err := m.CleanEstimate(y, sigma, noise)
			must(t, err)
			t0, err := m.TranslateH(h, 0, noise)
			must(t, err)
			if d := maxAbsErr(t, n2c, t0); d != 0 {
				t.Fatalf("N2C differs from C2N at temperature 0 by %g", d)
			}
			c2n, err := m.Translate(y, sigma, 0.8, noise)
			must(t, err)
			viaH, err := m.TranslateH(h, 0.8, noise)
			must(t, err)
			if d := maxAbsErr(t, c2n, viaH); d != 0 {
				t.Fatalf("Translate differs from TranslateH(Preprocess) by %g", d)
			}
			if d := maxAbsErr(t, c2n, t0); d < 1e-6 {
				t.Fatalf("temperature 0.8 gave the temperature-0 output (diff %g)", d)
			}
			// The residual C2N is the input plus the difference of the two
			// decodes of the same h; at temperature 0 it is the input.
			res, err := m.TranslateResidual(y, sigma, 0.8, noise)
			must(t, err)
			if d := maxAbsErr(t, res, y.Add(c2n.Sub(t0))); d > 1e-15 {
				t.Fatalf("TranslateResidual differs from y + C2N(0.8) − C2N(0) by %g", d)
			}
			res0, err := m.TranslateResidual(y, sigma, 0, noise)
			must(t, err)
			if d := maxAbsErr(t, res0, y); d != 0 {
				t.Fatalf("TranslateResidual at temperature 0 differs from its input by %g", d)
			}
			deg := []bool{true, false, true}
			rec, err := m.Reconstruct(y, h, deg, noise)
			must(t, err)
			l, err := m.Loss(y, h, deg, noise)
			must(t, err)
			if d := maxAbsErr(t, rec, l.Output); d != 0 {
				t.Fatalf("Reconstruct differs from the training forward by %g", d)
			}
			if rec.RequiresGrad() {
				t.Fatal("Reconstruct recorded gradients")
			}
		})
	})
}

// TestChannelsLastKeepsResults converts the weights to channels-last and
// checks C2N is unchanged (float64: rounding differences only) and the
// state dict still has the same values.
func TestChannelsLastKeepsResults(t *testing.T) {
	m, err := New(Config{Channels: 3, Filters: 6, Levels: 3}, tb.Options{DType: tb.Float64}, 6)
	must(t, err)
	defer m.Close()
	tb.WithScope(func(*tb.Scope) {
		mustTry(t, func() {
			x := tb.Rand([]int64{2, 3, 17, 13}, tb.Options{DType: tb.Float64}, nil)
			sigma := tb.FromSlice([]float64{20, 40})
			noise := Noise{Seed: 4, Stream: 1}
			before, err := m.Translate(x, sigma, 1, noise)
			must(t, err)
			must(t, m.ToChannelsLast())
			if !m.Enc[0].Net[1].Weight.IsChannelsLast() {
				t.Fatal("weights are not channels-last")
			}
			after, err := m.Translate(x.ChannelsLast(), sigma, 1, noise)
			must(t, err)
			if d := maxAbsErr(t, before, after); d > 1e-12 {
				t.Fatalf("channels-last changed C2N by %g", d)
			}
			if n := m.NumParams(); n == 0 {
				t.Fatal("no parameters after conversion")
			}
		})
	})
}

// TestGenerationReleasesIntermediates: the ladder walk closes each
// intermediate tensor once it is used, so the handles a generation leaves
// open (its output and inputs) do not grow with the number of levels.
func TestGenerationReleasesIntermediates(t *testing.T) {
	left := map[int]int64{}
	for _, levels := range []int{1, 5} {
		m, err := New(Config{Channels: 3, Filters: 4, Levels: levels}, tb.Options{DType: tb.Float64}, 1)
		must(t, err)
		tb.WithScope(func(*tb.Scope) {
			x := tb.Rand([]int64{2, 3, 8, 8}, tb.Options{DType: tb.Float64}, nil)
			sigma := tb.FromSlice([]float64{10, 20})
			before := tb.LiveTensors()
			_, err := m.Translate(x, sigma, 1, Noise{Seed: 1})
			must(t, err)
			left[levels] = tb.LiveTensors() - before
		})
		m.Close()
	}
	if left[5] != left[1] {
		t.Fatalf("C2N left %d handles open with 1 level, %d with 5", left[1], left[5])
	}
}
