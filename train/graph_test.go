package train

import (
	"io"
	"math"
	"testing"

	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestGraphStepMatchesEager takes the tiny run's first 16 steps twice from
// the same start, with a colour map and batches of several counts of
// degraded crops: op by op (step) and through the graph stepper's inputs.
// On the CPU the stepper runs the graph's work op by op; on a CUDA machine
// (make gpu-check) it warms, records and replays a graph per count. The
// first step's losses are equal bit for bit on the CPU: the same inputs,
// the noise of the same streams (model.Noise.StreamAdd), the same
// operations. After that Adam's rounding parts them (FusedStep moves the
// first moment by lerp, Debian's libtorch 1.13 by mul and add: an ulp of
// the moments, TestAdamFusedMatchesStep), and on CUDA cuDNN may pick other
// algorithms in another run: every loss within 1e-4 relative of the
// eager one on the CPU, 1e-3 on CUDA. A stepper that replayed stale inputs
// or noise would be off by far more: the losses move by percents from step
// to step.
func TestGraphStepMatchesEager(t *testing.T) {
	t.Parallel()
	for _, dev := range testDevices() {
		t.Run(dev, func(t *testing.T) {
			c := tinyConfig(t)
			c.Device, c.Normalize, c.Steps = dev, "auto", 16
			d, err := LoadData(t.Context(), &c, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			rt := testRuntime(t, c) // with cuDNN's benchmark mode on CUDA, as train's
			device := rt.Device()
			var runSteps func(graphs bool) ([][3]float64, map[int]bool)
			run := func(graphs bool) (losses [][3]float64, counts map[int]bool) {
				if err := rt.Do(func() error { losses, counts = runSteps(graphs); return nil }); err != nil {
					t.Fatal(err)
				}
				return losses, counts
			}
			runSteps = func(graphs bool) (losses [][3]float64, counts map[int]bool) {
				m, err := model.New(model.Config{Channels: 3, Filters: c.Filters, Levels: c.Levels}, tb.Options{DType: tb.Float32, Device: device}, c.Seed)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				if err := m.ToChannelsLast(); err != nil {
					t.Fatal(err)
				}
				opt := tb.NewAdam(m.Tensors(), tb.AdamConfig{LR: c.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
				defer opt.Close()
				var s stepper = eagerStepper{rt, m, opt, &c, nil}
				if graphs {
					g, err := newGraphStepper(rt, m, opt, &c, true, device.IsCUDA())
					if err != nil {
						t.Fatal(err)
					}
					s = g
				}
				defer s.close()
				counts = map[int]bool{}
				for step := 1; step <= c.Steps; step++ {
					b := d.MakeBatch(&c, step)
					n := 0
					for _, deg := range b.Degraded {
						if deg {
							n++
						}
					}
					counts[n] = true
					st, err := s.step(b)
					if err != nil {
						t.Fatal(err)
					}
					losses = append(losses, [3]float64{st.total, st.rec, st.kl})
				}
				return losses, counts
			}
			want, counts := run(false)
			got, _ := run(true)
			if len(counts) < 3 {
				t.Fatalf("the batches hold only %d counts of degraded crops: %v", len(counts), counts)
			}
			tol := 1e-4
			if dev == "cuda" {
				tol = 1e-3
			} else if got[0] != want[0] {
				t.Errorf("step 1: losses (total, rec, kl) %v, op by op %v: want them equal", got[0], want[0])
			}
			worst := 0.0
			for s := range want {
				for k := range 3 {
					r := math.Abs(got[s][k]-want[s][k]) / math.Abs(want[s][k])
					worst = max(worst, r)
					if r > tol || math.IsNaN(r) {
						t.Errorf("step %d: loss %d is %.7g, op by op %.7g", s+1, k, got[s][k], want[s][k])
					}
				}
			}
			t.Logf("%s: %d steps over %d counts of degraded crops; largest relative difference %.3g", dev, len(want), len(counts), worst)
		})
	}
}
