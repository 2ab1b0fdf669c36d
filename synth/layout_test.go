package synth

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/layout"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestLayoutsSynthesizeAlike: Translate over a 70×53 image in 16-pixel
// tiles gives the same image in NCHW and in channels-last within float32
// rounding (every pixel within 1e-5 on the 0–1 scale; measured a few
// 1e-8), both for C2N and N2C; ChooseLayout with --layout auto changes
// nothing of the weights but their memory order (the same values bit for
// bit), logs both timings, and leaves the model in the layout it chose.
func TestLayoutsSynthesizeAlike(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	s, err := tb.ParseSettings("cpu", 2, "fp32")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := tb.NewRuntime(s)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	err = rt.Do(func() error {
		m, err := model.New(model.Config{Channels: 3, Filters: 6, Levels: 2}, tb.Options{}, 3)
		if err != nil {
			return err
		}
		defer m.Close()
		img := &images.Image{W: 70, H: 53, Pix: make([]float32, 3*70*53)}
		for i := range img.Pix {
			img.Pix[i] = float32(i%97) / 97
		}
		for _, mode := range []string{"c2n", "n2c"} {
			o := Defaults()
			o.Tile, o.Mode = 16, mode
			rec := Record{Sigma: 40, Temperature: 1, Seed: 5, Stream: 2}
			out := map[layout.Layout]*images.Image{}
			for _, l := range []layout.Layout{layout.NCHW, layout.NHWC} {
				if err := m.ToLayout(l); err != nil {
					return err
				}
				if m.Layout() != l {
					t.Fatalf("ToLayout(%s) left the model in %s", l, m.Layout())
				}
				if out[l], err = o.Translate(context.Background(), rt, m, img, rec); err != nil {
					return err
				}
			}
			worst := 0.0
			for i, a := range out[layout.NCHW].Pix {
				worst = max(worst, float64(abs32(a-out[layout.NHWC].Pix[i])))
			}
			if !(worst <= 1e-5) {
				t.Errorf("%s: NCHW and channels-last differ by %g", mode, worst)
			}
			t.Logf("%s: largest difference between layouts %.3g", mode, worst)
		}
		before := weights(m)
		var log bytes.Buffer
		o := Defaults()
		o.Tile = 16
		c, err := o.ChooseLayout(context.Background(), rt, m, 0, &log)
		if err != nil {
			return err
		}
		if m.Layout() != c.Layout || !(c.NCHWMs > 0 && c.NHWCMs > 0) || !strings.Contains(log.String(), "nchw ") || !strings.Contains(log.String(), "nhwc ") {
			t.Errorf("chose %+v, model in %s, log %q", c, m.Layout(), log.String())
		}
		after := weights(m)
		for i := range before {
			if before[i] != after[i] {
				t.Fatalf("ChooseLayout changed weight value %d: %g → %g", i, before[i], after[i])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func weights(m *model.LUDVAE) []float32 {
	var all []float32
	for _, w := range m.Tensors() {
		all = append(all, w.Contiguous().Float32s()...)
	}
	return all
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// TestLayoutForcedOrRefused: a --layout other than auto, nchw or nhwc is
// refused before any work, naming the flag: a misspelling, and blocked,
// which only training runs in.
func TestLayoutForcedOrRefused(t *testing.T) {
	for lay, want := range map[string]string{"nwhc": "--layout", "blocked": "--layout blocked: only LUD-VAE training"} {
		o := Defaults()
		o.Model, o.Clean, o.Out, o.Layout = "m.pth", "c", filepath.Join(t.TempDir(), "o"), lay
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--layout %s: %v, want an error naming %q", lay, err, want)
		}
	}
}
