package train

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// ckptWeights reads a checkpoint entry's state dict (model.EMAKey or
// "model") as float64 slices by key; nil when the entry is absent.
func ckptWeights(t *testing.T, path, entry string) map[string][]float64 {
	t.Helper()
	d, err := tb.LoadDict(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.CloseAll(d)
	v, ok := d.Get(entry)
	if !ok {
		return nil
	}
	return stateDictValues(t, v.(*tb.Dict))
}

func stateDictValues(t *testing.T, sd *tb.Dict) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for i, k := range sd.Keys {
		out[k.(string)] = sd.Values[i].(*tb.Tensor).Contiguous().Float64s()
	}
	return out
}

// TestEMA: train --ema keeps the closed-form average of the weights; it
// does not change the trained weights; a run interrupted and resumed ends
// with the same average, bit for bit; readers that do not know it take the
// trained weights, and LoadWeights chooses.
func TestEMA(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	c.Steps, c.SaveEvery, c.Keep, c.EMA = 8, 1, 100, 0.5
	if err := trainRun(context.Background(), c, io.Discard); err != nil {
		t.Fatal(err)
	}
	ck, _ := Checkpoints(c.Out)
	if len(ck) != c.Steps {
		t.Fatalf("%d checkpoints, want %d", len(ck), c.Steps)
	}

	// Closed form: the initial weights (the seed's, as the trainer draws
	// them) and each step's trained weights, folded in float64 with
	// d_n = min(0.5, (1+n)/(10+n)): 2/11, 3/12, …, 9/18 = 0.5.
	var w0 map[string][]float64
	err := testRuntime(t, c).Do(func() error {
		m, err := model.New(model.Config{Channels: 3, Filters: c.Filters, Levels: c.Levels}, tb.Options{DType: tb.Float32}, c.Seed)
		if err != nil {
			return err
		}
		defer m.Close()
		w0 = stateDictValues(t, m.StateDict())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float64{}
	for k, v := range w0 {
		want[k] = append([]float64(nil), v...)
	}
	for n := 1; n <= c.Steps; n++ {
		d := math.Min(0.5, float64(1+n)/float64(10+n))
		w := ckptWeights(t, ck[n-1], "model")
		for k := range want {
			for i := range want[k] {
				want[k][i] = d*want[k][i] + (1-d)*w[k][i]
			}
		}
		got := ckptWeights(t, ck[n-1], model.EMAKey)
		worst := 0.0
		for k := range want {
			for i := range want[k] {
				worst = math.Max(worst, math.Abs(got[k][i]-want[k][i]))
			}
		}
		// float32 arithmetic on weights of magnitude < 1, n ≤ 8 updates
		if worst > 1e-6 {
			t.Errorf("step %d: average off the closed form by %g (tolerance 1e-6)", n, worst)
		}
	}

	// The average leaves training alone: a run without it ends with the
	// same trained weights, bit for bit, and its checkpoints hold none.
	plain := c
	plain.EMA, plain.Out = 0, filepath.Join(t.TempDir(), "plain")
	if err := trainRun(context.Background(), plain, io.Discard); err != nil {
		t.Fatal(err)
	}
	pk, _ := Checkpoints(plain.Out)
	last := ck[len(ck)-1]
	sameWeights(t, ckptWeights(t, pk[len(pk)-1], "model"), ckptWeights(t, last, "model"), "without --ema", "with --ema")
	if ckptWeights(t, pk[len(pk)-1], model.EMAKey) != nil {
		t.Error("a run without --ema saved an average")
	}

	// Exact resume: interrupted after step 3, resumed to the end.
	r := c
	r.Out, r.SaveEvery = filepath.Join(t.TempDir(), "resumed"), 4
	ctx, cancel := context.WithCancel(context.Background())
	tr, err := NewTrainer(t.Context(), testRuntime(t, r), r, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tr.afterStep = func(s int) {
		if s == 3 {
			cancel()
		}
	}
	if err := tr.Train(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v", err)
	}
	tr.Close()
	if err := trainRun(context.Background(), r, io.Discard); err != nil {
		t.Fatal(err)
	}
	rk, _ := Checkpoints(r.Out)
	sameWeights(t, ckptWeights(t, rk[len(rk)-1], model.EMAKey), ckptWeights(t, last, model.EMAKey), "resumed average", "uninterrupted average")

	// Readers: Load (which knows no average) and LoadWeights "trained"
	// take "model"; "auto" and "ema" the average.
	err = testRuntime(t, c).Do(func() error {
		for _, cs := range []struct{ which, entry string }{{"", "model"}, {model.WeightsTrained, "model"}, {model.WeightsAuto, model.EMAKey}, {model.WeightsEMA, model.EMAKey}} {
			var m *model.LUDVAE
			var err error
			took := model.WeightsTrained
			if cs.which == "" {
				m, err = model.Load(last, tb.Options{DType: tb.Float32})
			} else {
				m, took, err = model.LoadWeights(last, tb.Options{DType: tb.Float32}, cs.which)
			}
			if err != nil {
				return err
			}
			sameWeights(t, stateDictValues(t, m.StateDict()), ckptWeights(t, last, cs.entry), "loaded "+cs.which, cs.entry)
			if (took == model.WeightsEMA) != (cs.entry == model.EMAKey) {
				t.Errorf("LoadWeights(%q) says it took %q", cs.which, took)
			}
			m.Close()
		}
		if _, _, err := model.LoadWeights(pk[len(pk)-1], tb.Options{DType: tb.Float32}, model.WeightsEMA); err == nil {
			t.Error("LoadWeights(ema) of a checkpoint without an average succeeded")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// PyTorch reads the checkpoint, loads both entries strictly into the
	// reference network, and its "model" is what Load took.
	got := testkit.RunPython(t, `
import sys, torch
from ludvae_ref import LUDVAE
d = torch.load(sys.argv[1])
m = LUDVAE(3, 4, 2)
m.load_state_dict(d["model"], strict=True)
m.load_state_dict(d["ema"], strict=True)
print(d["ema_decay"], d["config"]["ema"])
`, last)
	if got != "0.5 0.5" {
		t.Fatalf("python read %q", got)
	}
}

func sameWeights(t *testing.T, a, b map[string][]float64, nameA, nameB string) {
	t.Helper()
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%s has %d tensors, %s %d", nameA, len(a), nameB, len(b))
	}
	for k, v := range a {
		for i := range v {
			if v[i] != b[k][i] {
				t.Errorf("%s: %s %v, %s %v", k, nameA, v[i], nameB, b[k][i])
				return
			}
		}
	}
}
