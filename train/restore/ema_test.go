package restore

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestDegraderTakesAverage: the on-the-fly degrader loads a checkpoint's
// weight average ("ema", train --ema) unless --ludvae-weights trained says
// otherwise, and a checkpoint without one is asked for it in vain.
func TestDegraderTakesAverage(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "ema.pth")
	mc := model.Config{Channels: 3, Filters: 4, Levels: 2}
	var trained, ema *model.LUDVAE
	err := tb.Try(func() {
		var err error
		if trained, err = model.New(mc, tb.Options{}, 1); err != nil {
			panic(err)
		}
		if ema, err = model.New(mc, tb.Options{}, 2); err != nil {
			panic(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer trained.Close()
	defer ema.Close()
	d := tb.NewDict()
	d.Set("model", trained.StateDict())
	d.Set(model.EMAKey, ema.StateDict())
	if err := tb.Save(ck, d); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain.pth")
	if err := trained.SaveStateDict(plain); err != nil {
		t.Fatal(err)
	}
	for _, cs := range []struct {
		path, weights string
		want          *model.LUDVAE
	}{{ck, "", ema}, {ck, model.WeightsAuto, ema}, {ck, model.WeightsEMA, ema}, {ck, model.WeightsTrained, trained}, {plain, "", trained}} {
		cfg := Config{LUDVAE: cs.path, LUDVAEWeights: cs.weights}
		g, err := loadDegrader(&cfg, tb.CPU)
		if err != nil {
			t.Fatalf("%s %q: %v", filepath.Base(cs.path), cs.weights, err)
		}
		got, want := g.m.Tensors(), cs.want.Tensors()
		for i := range want {
			a, b := got[i].Contiguous().Float64s(), want[i].Contiguous().Float64s()
			if !slices.Equal(a, b) {
				t.Errorf("%s --ludvae-weights %q: tensor %d is not the expected entry's", filepath.Base(cs.path), cs.weights, i)
				break
			}
		}
		g.close()
	}
	cfg := Config{LUDVAE: plain, LUDVAEWeights: model.WeightsEMA}
	if _, err := loadDegrader(&cfg, tb.CPU); err == nil {
		t.Error("--ludvae-weights ema of a plain state dict was accepted")
	}
}
