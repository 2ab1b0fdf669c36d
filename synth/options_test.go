package synth

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestCheckpointDefaults: a checkpoint's "synthesis" entry gives synth its
// σ range, temperature, normalization and, for C2N only, the training
// downscale as --sr-scale; a plain state dict changes nothing; a downscale
// that is not a positive integer is refused naming the entry.
func TestCheckpointDefaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	norm := &model.AIM19Normalization
	save := func(name string, syn *tb.Dict) string {
		path := filepath.Join(dir, name)
		d := tb.NewDict()
		d.Set("synthesis", syn)
		if err := tb.Save(path, d); err != nil {
			t.Fatal(err)
		}
		return path
	}
	sr := save("sr.pth", model.Synthesis{SigmaMin: 15, SigmaMax: 15, Temperature: 1, Norm: norm, Downscale: 4}.Dict())
	for _, c := range []struct {
		mode     string
		wantRate int
	}{{"c2n", 4}, {"n2c", 1}} {
		o := Defaults()
		o.Mode = c.mode
		if err := o.CheckpointDefaults(sr); err != nil {
			t.Fatal(err)
		}
		if o.SigmaMin != 15 || o.SigmaMax != 15 || o.Temperature != 1 || *o.Norm != *norm || o.SRScale != c.wantRate {
			t.Errorf("%s: σ %g–%g, temperature %g, norm %v, sr-scale %d; want 15–15, 1, AIM19, %d",
				c.mode, o.SigmaMin, o.SigmaMax, o.Temperature, o.Norm, o.SRScale, c.wantRate)
		}
	}

	old := model.Synthesis{SigmaMin: 30, SigmaMax: 70, Temperature: 1}.Dict()
	old.Delete("downscale") // checkpoints written before the entry had it
	o := Defaults()
	if err := o.CheckpointDefaults(save("old.pth", old)); err != nil || o.SRScale != 1 || o.Norm != nil {
		t.Errorf("without downscale: sr-scale %d, norm %v, err %v; want 1, nil, nil", o.SRScale, o.Norm, err)
	}

	bad := model.Synthesis{SigmaMin: 30, SigmaMax: 70, Temperature: 1}.Dict()
	bad.Set("downscale", 0.5)
	if err := o.CheckpointDefaults(save("bad.pth", bad)); err == nil || !strings.Contains(err.Error(), `"downscale"`) {
		t.Errorf("downscale 0.5: err %v, want one naming \"downscale\"", err)
	}

	plain := saveTinyModel(t, dir, 1, nil)
	o = Defaults()
	if err := o.CheckpointDefaults(plain); err != nil || o != Defaults() {
		t.Errorf("plain state dict: err %v, options changed: %+v", err, o)
	}
}
